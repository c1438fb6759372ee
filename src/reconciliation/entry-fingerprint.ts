import { createHash } from 'node:crypto';
import { ParsedStatementEntry } from 'src/reconciliation/parsers/statement-entry';

/**
 * What identifies a bank entry across statements, so that the same transfer in two files (overlapping periods,
 * an intraday and an end-of-day statement) is recognised and never matched twice:
 *  - `id:` the bank's own reference for the entry (AcctSvcrRef), else the payer's end-to-end id, with the
 *    booking date, direction, currency and amount. Unique per transfer, so also checked within one file.
 *    A transfer of a batch entry (several TxDtls booked as one Ntry) adds its place in the entry.
 *  - `row:` for entries without either (the CSV format has no bank reference): every field of the row. Two equal
 *    rows in ONE file may be two real transfers (two equal tranches paid the same day), so RowOccurrences numbers
 *    them: the second identical row of a file has the fingerprint of (the row, 2). A later file holding both rows then repeats the first
 *    and brings the second as new, and each can be matched on its own.
 * Hashed, so the column stays small whatever the remittance text holds.
 */
export function entryFingerprint(entry: ParsedStatementEntry): string {
  const common = [entry.bookingDate, entry.creditDebit, entry.currency, String(entry.amount)];
  // The transfers of one batch entry may share the entry's bank reference and amount: their place in it tells them apart.
  if (entry.batchTransaction !== undefined) common.push(`batch:${entry.batchTransaction}`);
  const bankReference = entry.accountServicerReference?.trim();
  if (bankReference) return `id:${digest(['asr', bankReference, ...common])}`;
  const endToEnd = entry.endToEndId?.trim();
  if (endToEnd && endToEnd.toUpperCase() !== 'NOTPROVIDED') return `id:${digest(['e2e', endToEnd, ...common])}`;
  return `row:${digest([
    'row',
    ...common,
    entry.valueDate ?? '',
    entry.remittance,
    JSON.stringify(entry.structuredReferences),
    entry.counterparty ?? '',
    entry.additionalInfo ?? '',
    entry.instructionId ?? '',
  ])}`;
}

/**
 * The fingerprints of one file's entries in file order, `row:` ones numbered by occurrence (see entryFingerprint).
 * Counts per row fingerprint, keyed by its first 52 bits as a number: 200,000 CSV rows cost ~10 MiB of heap, against
 * ~29 MiB keyed by the whole string (a substring key would keep its whole string alive). Two different rows of one
 * file sharing those bits (~1 in 200,000 for a file of 200,000 rows) only number the second as a repeat.
 */
export class RowOccurrences {
  private readonly seen = new Map<number, number>();

  fingerprintOf(entry: ParsedStatementEntry): string {
    const fingerprint = entryFingerprint(entry);
    if (identifiesWithinFile(fingerprint)) return fingerprint;
    const key = Number.parseInt(fingerprint.slice(4, 17), 16);
    const occurrence = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, occurrence);
    return occurrence === 1 ? fingerprint : `row:${digest([fingerprint, String(occurrence)])}`;
  }
}

/** Whether two entries with this fingerprint in the same file are the same transfer. */
export function identifiesWithinFile(fingerprint: string): boolean {
  return fingerprint.startsWith('id:');
}

function digest(parts: string[]): string {
  // JSON keeps the parts apart: no separator character can make ["a|b", "c"] collide with ["a", "b|c"].
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
