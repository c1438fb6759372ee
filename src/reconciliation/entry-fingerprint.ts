import { createHash } from 'node:crypto';
import { entryReferences } from 'src/reconciliation/matching';
import { ParsedStatementEntry } from 'src/reconciliation/parsers/statement-entry';

/**
 * What payers and banks write in the end-to-end id when there is none: camt.053 converted from MT940 carries NONREF,
 * ISO 20022 payments NOTPROVIDED. Compared without white space, in any case.
 */
const NO_END_TO_END_ID = new Set(['', 'NOTPROVIDED', 'NONREF', '/']);

/**
 * The reason stored on every repeat of a bank entry already imported (status duplicate), and on those alone: the
 * report tells repeats (which need no one) from other duplicates by it. Stored rows carry it as it is: do not reword.
 */
export const REPEATED_ENTRY_REASON = 'the same bank entry was already imported';

/**
 * What identifies a bank entry across statements, so that the same transfer in two files (overlapping periods,
 * an intraday and an end-of-day statement) is recognised and never matched twice:
 *  - `id:` the bank's own reference for the entry (AcctSvcrRef), else the payer's end-to-end id, with the
 *    booking date, direction, currency and amount. Unique per transfer, so also checked within one file.
 *    A transfer of a batch entry (several TxDtls booked as one Ntry) adds its place in the entry.
 *    An end-to-end id is the payer's, not the bank's: a payer may reuse one (a batch id) for several transfers,
 *    so the Sprout references the entry names are part of it — two entries naming different tranches are never
 *    the same entry. A placeholder (NO_END_TO_END_ID) is no id at all.
 *  - `row:` for entries without either (the CSV format has no bank reference): every field of the row. Two equal
 *    rows in ONE file may be two real transfers (two equal tranches paid the same day), so RowOccurrences numbers
 *    them: the second identical row of a file has the fingerprint of (the row, 2). A later file holding both rows then repeats the first
 *    and brings the second as new, and each can be matched on its own.
 * Hashed, so the column stays small whatever the remittance text holds.
 */
export function entryFingerprint(entry: ParsedStatementEntry, references: readonly string[] = entryReferences(entry)): string {
  const common = commonParts(entry);
  const bankReference = entry.accountServicerReference?.trim();
  if (bankReference) return `id:${digest(['asr', bankReference, ...common])}`;
  const endToEnd = endToEndIdOf(entry);
  // Without references the parts are those of the form before them (formerFingerprint): such entries keep their
  // stored fingerprints.
  if (endToEnd) return `id:${digest(['e2e', endToEnd, ...common, ...(references.length ? ['refs', ...[...references].sort()] : [])])}`;
  return `row:${digest([
    'row',
    ...common,
    entry.writtenValueDate ?? entry.valueDate ?? '',
    entry.remittance,
    JSON.stringify(entry.structuredReferences),
    entry.counterparty ?? '',
    entry.additionalInfo ?? '',
    entry.instructionId ?? '',
  ])}`;
}

/**
 * The fingerprint the entry had before end-to-end ids left out placeholders and took in the Sprout references, when
 * it differs from entryFingerprint's: such an entry's first import may be stored under it (an intraday statement
 * imported before the change, its end-of-day statement after). Null for every other entry (bank-referenced, rows,
 * end-to-end ids naming no reference), whose fingerprint is unchanged.
 *
 * Why the new form only where the old one was ambiguous, and a second look-up for those: every stored fingerprint
 * stays valid as it is (no rewrite of statement_fingerprints or statement_entries, the largest tables), and the
 * look-up costs nothing for the entries whose fingerprint did not change (bank-referenced, CSV rows, end-to-end ids
 * naming no reference). The former form is ambiguous (that was the bug), so StatementImportRun takes an entry stored
 * under it for a first import of this one only when it names the same references.
 */
export function formerFingerprint(entry: ParsedStatementEntry, references: readonly string[]): string | null {
  if (entry.accountServicerReference?.trim()) return null;
  const written = entry.endToEndId?.trim();
  if (!written || written.toUpperCase() === 'NOTPROVIDED') return null;
  if (endToEndIdOf(entry) && references.length === 0) return null;
  return `id:${digest(['e2e', written, ...commonParts(entry)])}`;
}

/** Whether two lists of Sprout references (entryReferences) name the same tranches, in whatever order. */
export function sameReferences(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');
}

/**
 * The fingerprints of one file's entries in file order, `row:` ones numbered by occurrence (see entryFingerprint).
 * Counts per row fingerprint, keyed by its first 52 bits as a number: 200,000 CSV rows cost ~10 MiB of heap, against
 * ~29 MiB keyed by the whole string (a substring key would keep its whole string alive). Two different rows of one
 * file sharing those bits (~1 in 200,000 for a file of 200,000 rows) only number the second as a repeat.
 */
export class RowOccurrences {
  private readonly seen = new Map<number, number>();

  fingerprintOf(entry: ParsedStatementEntry, references?: readonly string[]): string {
    const fingerprint = entryFingerprint(entry, references);
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

function endToEndIdOf(entry: ParsedStatementEntry): string | undefined {
  const id = entry.endToEndId?.trim();
  return id && !NO_END_TO_END_ID.has(id.replace(/\s+/g, '').toUpperCase()) ? id : undefined;
}

function commonParts(entry: ParsedStatementEntry): string[] {
  // The day as the bank wrote it: fingerprints stored before dates were read in China time stay valid.
  const common = [entry.writtenBookingDate ?? entry.bookingDate, entry.creditDebit, entry.currency, String(entry.amount)];
  // The transfers of one batch entry may share the entry's bank reference and amount: their place in it tells them apart.
  if (entry.batchTransaction !== undefined) common.push(`batch:${entry.batchTransaction}`);
  return common;
}

function digest(parts: string[]): string {
  // JSON keeps the parts apart: no separator character can make ["a|b", "c"] collide with ["a", "b|c"].
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
