import { ParsedStatementEntry } from 'src/reconciliation/parsers/statement-entry';

/** An unmatched credit naming nothing of Sprout's: most of a hospital's account (its patients' own payments, …). */
export const NO_REFERENCE_REASON = 'no Sprout reference';

/**
 * The amounts of a hospital's tranches whose money may have arrived unseen: paid, or sent to the bank in a payment file,
 * and not reconciled. A credit naming nothing but of one of these may be the fund's, its reference lost on the way.
 */
export const awaitedAmountsSql = (hospitalId: string) =>
  `SELECT d.amount FROM disbursements d WHERE d.hospital_id = ${hospitalId} AND (d.status = 'paid' OR (d.status = 'scheduled' AND d.exported_at IS NOT NULL))`;

export type MatchStatus = 'matched' | 'mismatched' | 'unmatched' | 'duplicate' | 'ignored';

export interface MatchCandidate {
  id: string;
  /** Minor units. */
  amount: number;
  /** Disbursement status: scheduled, paid, reconciled, cancelled, returned. */
  status: string;
  hospitalId: string;
  /** A debit or reversal of an earlier import, booked on or after the tranche's current payment, names it: the money may have gone back. */
  takenBack?: boolean;
  /**
   * For a paid tranche an earlier payment of which was returned: the day of its current payment (YYYY-MM-DD). A credit
   * booked before it cannot be that payment's.
   */
  paidAgainOn?: string;
  /** A paid tranche's current payment: a match settles the tranche only if that is still its payment (StatementSettlement). */
  paymentId?: string;
}

export interface MatchResult {
  status: MatchStatus;
  disbursementId?: string;
  /** The Sprout reference the decision is about; add it to seenInThisStatement when status is matched. */
  reference?: string;
  reason?: string;
  /** Money going back (takingBack): every paid or reconciled tranche of the hospital the entry names. */
  takenBack?: string[];
  /** For a match: the payment of the tranche it was judged against (MatchCandidate.paymentId). */
  paymentId?: string;
}

const MATCHABLE_CURRENCY = 'CNY';
const HYPHEN = '[-\\u2010-\\u2015\\u2212]';
// Banks keep the hyphens, turn them into spaces, or drop them all; mixed forms are not guessed at,
// because with optional separators "SPR-2026-0001234-1" would yield the unrelated SPR-2026-000123-4.
// Serials are 6 digits, or 7–9 without a leading zero from the millionth application on. Run together (COMPACT),
// a longer serial cannot be told from a 6-digit one followed by a longer tranche number, so only 6-digit serials are
// read there: such a payment is matched by hand.
const SEPARATED = `SPR(?:${HYPHEN}|\\s+)(\\d{4})(?:${HYPHEN}|\\s+)(\\d{6}|[1-9]\\d{6,8})(?:${HYPHEN}|\\s+)(\\d{1,4})`;
const COMPACT = 'SPR(\\d{4})(\\d{6})(\\d{1,4})';
const ASCII = /^[\x00-\x7f]*$/;
const SPR = /spr/i;
// The lookarounds stop a match inside a longer token: SPR-2026-000123-1 is not in SPR-2026-000123-12.
const REFERENCE = new RegExp(`(?<![A-Za-z0-9])(?:${SEPARATED}|${COMPACT})(?![A-Za-z0-9])`, 'gi');

/** Booked (or, in CSV, without a status) and in CNY: money that moved in the currency tranches are paid in. */
export function bookedInCny(entry: ParsedStatementEntry): boolean {
  return entry.currency === MATCHABLE_CURRENCY && (entry.status === undefined || entry.status === 'BOOK');
}

/**
 * Sprout tranche references (SPR-YYYY-NNNNNN-K, 6–9 digit serial) in free text, case-insensitive, written canonically
 * (upper case, hyphens), without repeats, in order of appearance. Full-width characters typed with
 * a Chinese input method (ＳＰＲ－２０２６…) are folded to ASCII first.
 */
export function findReferences(text: string): string[] {
  // NFKC leaves ASCII as it is; most bank texts are ASCII, and an ASCII text without "spr" holds no reference.
  const ascii = ASCII.test(text);
  if (ascii && !SPR.test(text)) return [];
  const found = new Set<string>();
  for (const match of (ascii ? text : text.normalize('NFKC')).matchAll(REFERENCE)) {
    const [year, serial, tranche] = match[1] ? match.slice(1, 4) : match.slice(4, 7);
    found.add(`SPR-${year}-${serial}-${tranche}`);
  }
  return [...found];
}

/** Every Sprout reference the payer could have carried: remittance, structured references, end-to-end id, additional info. */
export function entryReferences(entry: Pick<ParsedStatementEntry, 'remittance' | 'structuredReferences' | 'endToEndId' | 'additionalInfo'>): string[] {
  const texts = [entry.remittance, ...entry.structuredReferences, entry.endToEndId ?? '', entry.additionalInfo ?? ''];
  return [...new Set(texts.flatMap(findReferences))];
}

/** The texts entryReferences reads, as statement_entries stores them. */
export type StoredEntryTexts = { remittance: string; structured_references: string[]; end_to_end_id: string | null; additional_info: string | null };

/** entryReferences of a stored entry. */
export function storedEntryReferences(row: StoredEntryTexts): string[] {
  return entryReferences({
    remittance: row.remittance,
    structuredReferences: row.structured_references,
    endToEndId: row.end_to_end_id ?? undefined,
    additionalInfo: row.additional_info ?? undefined,
  });
}

/** Why a credit naming a Sprout reference matched nothing: none of them is a tranche of this hospital. */
export const NOT_THIS_HOSPITALS_REASON = 'no disbursement of this hospital has this reference';

/** Why a credit is a second transfer for a tranche: another entry of its file matched it first. */
export const MATCHED_EARLIER_IN_FILE_REASON = 'an earlier entry of this statement matched this reference';

/**
 * Decides what one statement entry means for the hospital's disbursements. Pure: the caller adds
 * `result.reference` to `seenInThisStatement` after a match. `candidatesByReference` should hold every
 * disbursement, in any status, whose reference appears in the statement, keyed by canonical reference;
 * another hospital's disbursement is treated exactly like an unknown reference.
 */
export function classifyEntry(
  entry: ParsedStatementEntry,
  candidatesByReference: ReadonlyMap<string, MatchCandidate>,
  hospitalId: string,
  seenInThisStatement: ReadonlySet<string>,
  /** entryReferences(entry), when the caller has it already. */
  references: readonly string[] = entryReferences(entry),
): MatchResult {
  if (entry.creditDebit !== 'CRDT' || entry.reversal) {
    const kind = entry.creditDebit !== 'CRDT' ? 'a debit' : 'a reversal';
    return takingBack(entry, kind, candidatesByReference, hospitalId, references) ?? { status: 'ignored', reason: kind };
  }
  if (entry.currency !== MATCHABLE_CURRENCY) return { status: 'ignored', reason: `in ${entry.currency}, not ${MATCHABLE_CURRENCY}` };
  if (entry.status !== undefined && entry.status !== 'BOOK') return { status: 'ignored', reason: `not booked (status ${entry.status})` };

  const ours = references.filter((reference) => candidatesByReference.get(reference)?.hospitalId === hospitalId);
  if (ours.length === 0) {
    const reason = references.length === 0 ? NO_REFERENCE_REASON : NOT_THIS_HOSPITALS_REASON;
    return { status: 'unmatched', reason, ...(references.length === 1 ? { reference: references[0] } : {}) };
  }
  if (ours.length > 1) return { status: 'unmatched', reason: `several disbursement references (${ours.join(', ')})` };

  const [reference] = ours;
  const disbursement = candidatesByReference.get(reference) as MatchCandidate;
  const about = { reference, disbursementId: disbursement.id };
  // First: another amount is no payment of this tranche, whether or not it was paid, reconciled or matched earlier
  // in this file — an exception for a person (API.md: same reference with another amount → mismatched).
  if (disbursement.amount !== entry.amount) {
    return { status: 'mismatched', ...about, reason: `amount ${entry.amount} differs from the disbursement's ${disbursement.amount} (minor units)` };
  }
  if (seenInThisStatement.has(reference)) {
    return { status: 'duplicate', ...about, reason: MATCHED_EARLIER_IN_FILE_REASON };
  }
  if (disbursement.status === 'reconciled') return { status: 'duplicate', ...about, reason: 'the disbursement is already reconciled' };
  if (disbursement.status !== 'paid') return { status: 'unmatched', reference, reason: `the disbursement is ${disbursement.status}, not paid` };
  if (disbursement.takenBack) {
    return { status: 'mismatched', ...about, reason: 'a debit or reversal imported earlier names this disbursement: the payment may have been sent back; check with the bank' };
  }
  if (disbursement.paidAgainOn !== undefined && entry.bookingDate < disbursement.paidAgainOn) {
    return {
      status: 'unmatched',
      reference,
      reason: `booked on ${entry.bookingDate}, before the disbursement was paid again on ${disbursement.paidAgainOn} (an earlier payment was returned): it may be the returned payment; match it by hand if it is the new one`,
    };
  }
  return { status: 'matched', ...about, ...(disbursement.paymentId ? { paymentId: disbursement.paymentId } : {}) };
}

/**
 * A booked CNY debit or reversal naming tranches of this hospital that Sprout holds as paid or reconciled: the
 * bank (or the hospital) may have sent the payments back, which Sprout would otherwise never hear of. An exception
 * (mismatched) for hospital finance to look at; never a match. About the tranche when it names one; naming several
 * (a batch reversed whole), about none alone, listing them. Null for anything else.
 */
export function takingBack(
  entry: ParsedStatementEntry,
  kind: string,
  candidatesByReference: ReadonlyMap<string, MatchCandidate>,
  hospitalId: string,
  references: readonly string[],
): MatchResult | null {
  if (!bookedInCny(entry)) return null;
  const paidHere = references.filter((reference) => {
    const candidate = candidatesByReference.get(reference);
    return candidate?.hospitalId === hospitalId && (candidate.status === 'paid' || candidate.status === 'reconciled');
  });
  // Less than a tranche is not that payment coming back: a bank's fee for the incoming transfer, debited under its
  // reference, held the tranche's own credit back as "money sent back" (finance testing). It is for a person to look
  // at (a fee, or part of the money refunded), not a reason to keep the tranche unreconciled.
  const named = paidHere.filter((reference) => (candidatesByReference.get(reference) as MatchCandidate).amount <= entry.amount);
  if (named.length === 0 && paidHere.length > 0) {
    return {
      status: 'unmatched',
      ...(paidHere.length === 1 ? { reference: paidHere[0] } : {}),
      reason: `${kind} of less than the disbursement it names (${paidHere.join(', ')}): not the payment sent back; a bank's fee, or part of it refunded? Check, and resolve it`,
    };
  }
  if (named.length === 0) return null;
  if (named.length > 1) {
    return {
      status: 'mismatched',
      takenBack: named,
      reason: `${kind} naming these paid or reconciled disbursements: ${named.join(', ')}: the payments may have been sent back; check with the bank, and if so fund finance records the returns (of a reconciled one, once the entry that reconciled it is unmatched)`,
    };
  }
  const [reference] = named;
  const disbursement = candidatesByReference.get(reference) as MatchCandidate;
  return {
    status: 'mismatched',
    reference,
    disbursementId: disbursement.id,
    takenBack: named,
    reason:
      disbursement.status === 'reconciled'
        ? `${kind} naming this reconciled disbursement: the payment may have been sent back; check with the bank, and if so unmatch the entry that reconciled it, so that fund finance can record the return (a completed grant cannot be reopened: tell the fund)`
        : `${kind} naming this paid disbursement: the payment may have been sent back; check with the bank, and if so fund finance records the return`,
  };
}
