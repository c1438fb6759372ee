import { createHash } from 'node:crypto';
import { ParsedStatementEntry } from 'src/reconciliation/parsers/statement-entry';

/**
 * What identifies a bank entry across statements, so that the same transfer in two files (overlapping periods,
 * an intraday and an end-of-day statement) is recognised and never matched twice:
 *  - `id:` the bank's own reference for the entry (AcctSvcrRef), else the payer's end-to-end id, with the
 *    booking date, direction, currency and amount. Unique per transfer, so also checked within one file.
 *  - `row:` for entries without either (the CSV format has no bank reference): every field of the row. Two equal
 *    rows in ONE file may be two real transfers (two equal tranches paid the same day), so RowOccurrences numbers
 *    them: the second identical row of a file has the fingerprint of (the row, 2). A later file holding both rows then repeats the first
 *    and brings the second as new, and each can be matched on its own.
 * Hashed, so the column stays small whatever the remittance text holds.
 */
export function entryFingerprint(entry: ParsedStatementEntry): string {
  const common = [entry.bookingDate, entry.creditDebit, entry.currency, String(entry.amount)];
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
 * Holds one counter per distinct row fingerprint of the file, so its memory is bounded by the statement's size.
 */
export class RowOccurrences {
  private readonly seen = new Map<string, number>();

  fingerprintOf(entry: ParsedStatementEntry): string {
    const fingerprint = entryFingerprint(entry);
    if (identifiesWithinFile(fingerprint)) return fingerprint;
    const occurrence = (this.seen.get(fingerprint) ?? 0) + 1;
    this.seen.set(fingerprint, occurrence);
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
