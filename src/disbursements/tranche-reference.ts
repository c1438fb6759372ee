/**
 * An application reference as ApplicationsService.create writes it (referenceOf): SPR-<year>-<serial padded to 6 digits>; from
 * the millionth application on the serial simply has 7–9 digits (never a leading zero then).
 */
const APPLICATION_REFERENCE = /^SPR-(\d{4})-(\d{6}|[1-9]\d{6,8})$/;
/** findReferences (reconciliation) recognises tranche numbers of 1–4 digits. */
export const MAX_TRANCHES = 9999;

/**
 * The reference of tranche `k` (1-based) of an application: `SPR-2026-000123` → `SPR-2026-000123-1`.
 * Refuses what the statement matcher could not find again in a bank's remittance text (a serial past 9 digits,
 * a tranche number past 9999): a payment carrying it could never be reconciled.
 */
export function trancheReference(applicationReference: string, k: number): string {
  if (!APPLICATION_REFERENCE.test(applicationReference)) {
    throw new RangeError(`application reference '${applicationReference}' is not SPR-YYYY-NNNNNN (6–9 digits)`);
  }
  if (!Number.isInteger(k) || k < 1 || k > MAX_TRANCHES) throw new RangeError(`tranche number ${k} is not in 1..${MAX_TRANCHES}`);
  return `${applicationReference}-${k}`;
}
