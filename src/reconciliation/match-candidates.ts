import { EntityManager } from 'typeorm';
import { MatchCandidate, StoredEntryTexts, storedEntryReferences } from 'src/reconciliation/matching';

type CandidateRow = {
  id: string;
  reference: string;
  amount: string;
  status: string;
  hospital_id: string;
  taken_back: boolean;
  paid_again_on: string | null;
  payment_id: string | null;
};
type SeveralNamedRow = StoredEntryTexts & { booked: string; imported: Date; amount: string };
/** A debit of an earlier import that named several tranches: the day the bank booked it, when Sprout imported it, its amount (fen, as text). */
type SeveralNamed = { booked: string; imported: Date; amount: string };

/**
 * The disbursements an import's entries name (classifyEntry's candidates), looked up per batch in one query. A paid
 * tranche of the hospital comes marked `takenBack` when a debit or reversal of an earlier import names it, of at least
 * its amount (less is a bank's fee, not the payment), that no one has resolved as nothing to do with it — money
 * that may have gone back, so its credit must not settle it whichever statement came first — provided the bank booked
 * it on or after the day of the tranche's current payment, and Sprout imported it after the latest return of the
 * tranche was recorded: once a return is recorded and the tranche paid again, the old debit (booked before, or seen
 * before the return was recorded: the return accounts for it, even when all of it happened on one day) says nothing
 * about the new payment, whenever its statement is imported. Such a tranche,
 * paid again after a return, also comes with the day of its current payment (`paidAgainOn`): a credit booked before
 * it may be the returned payment's, which must not settle the new one.
 */
export class MatchCandidates {
  /** Per reference, earlier imports' debits that named several tranches. */
  private severalNamed?: Promise<Map<string, SeveralNamed[]>>;

  constructor(
    private readonly tx: EntityManager,
    private readonly statementId: string,
    private readonly hospitalId: string,
  ) {}

  /** Every disbursement, in any status and of any hospital, whose reference is among `references`. */
  async for(references: string[]): Promise<Map<string, MatchCandidate>> {
    const candidates = new Map<string, MatchCandidate>();
    const unique = [...new Set(references)];
    if (unique.length === 0) return candidates;
    const severalNamed = await (this.severalNamed ??= this.loadSeveralNamed());
    const named = unique.flatMap((reference) => (severalNamed.get(reference) ?? []).map((debit) => ({ reference, ...debit })));
    // A debit naming one tranche is stored about it: statement_entries_disbursement_idx finds it. CASE: only a paid
    // tranche of this hospital can be matched, so only those are looked for.
    const rows = (await this.tx.query(
      `SELECT d.id, d.reference, d.amount::text AS amount, d.status, d.hospital_id, d.current_payment_id AS payment_id,
              CASE WHEN d.status = 'paid' AND d.hospital_id = $2 THEN
                EXISTS (SELECT 1 FROM statement_entries e JOIN bank_statements s ON s.id = e.statement_id
                         WHERE e.disbursement_id = d.id AND e.status = 'mismatched' AND (e.credit_debit = 'DBIT' OR e.reversal)
                           AND e.amount >= d.amount AND e.resolved_at IS NULL AND e.statement_id <> $3 AND e.booking_date >= p.paid_on AND s.created_at > returns.latest)
                OR EXISTS (SELECT 1 FROM unnest($4::text[], $5::date[], $6::timestamptz[], $7::bigint[]) AS n(reference, booked, imported, amount)
                            WHERE n.reference = d.reference AND n.amount >= d.amount AND n.booked >= p.paid_on AND n.imported > returns.latest)
              ELSE false END AS taken_back,
              CASE WHEN d.status = 'paid' AND d.hospital_id = $2
                        AND EXISTS (SELECT 1 FROM disbursement_payments r WHERE r.disbursement_id = d.id AND r.returned_at IS NOT NULL)
                   THEN p.paid_on::text END AS paid_again_on
         FROM disbursements d LEFT JOIN disbursement_payments p ON p.id = d.current_payment_id
              CROSS JOIN LATERAL (SELECT COALESCE(max(r.returned_at), '-infinity') AS latest FROM disbursement_payments r WHERE r.disbursement_id = d.id) returns
        WHERE d.reference = ANY($1)`,
      [unique, this.hospitalId, this.statementId, named.map((n) => n.reference), named.map((n) => n.booked), named.map((n) => n.imported), named.map((n) => n.amount)],
    )) as CandidateRow[];
    for (const r of rows) {
      candidates.set(r.reference, {
        id: r.id,
        amount: Number(r.amount),
        status: r.status,
        hospitalId: r.hospital_id,
        ...(r.taken_back ? { takenBack: true } : {}),
        ...(r.paid_again_on ? { paidAgainOn: r.paid_again_on } : {}),
        ...(r.payment_id ? { paymentId: r.payment_id } : {}),
      });
    }
    return candidates;
  }

  /**
   * Debits and reversals of earlier imports that named several tranches (takingBack): stored about none of them, so
   * found once per import through the hospital's statements that have exceptions (bank_statements_hospital_idx, then
   * statement_entries_statement_idx), and their references read again from their texts. Few: each is an exception.
   */
  private async loadSeveralNamed(): Promise<Map<string, SeveralNamed[]>> {
    const rows = (await this.tx.query(
      `SELECT e.remittance, e.structured_references, e.end_to_end_id, e.additional_info, e.booking_date::text AS booked, s.created_at AS imported, e.amount::text AS amount
         FROM bank_statements s JOIN statement_entries e ON e.statement_id = s.id AND e.status = 'mismatched'
        WHERE s.hospital_id = $1 AND s.mismatched > 0 AND s.id <> $2
          AND e.disbursement_id IS NULL AND (e.credit_debit = 'DBIT' OR e.reversal) AND e.resolved_at IS NULL`,
      [this.hospitalId, this.statementId],
    )) as SeveralNamedRow[];
    const byReference = new Map<string, SeveralNamed[]>();
    for (const row of rows) {
      const debit = { booked: row.booked, imported: row.imported, amount: row.amount };
      for (const reference of storedEntryReferences(row)) byReference.set(reference, [...(byReference.get(reference) ?? []), debit]);
    }
    return byReference;
  }
}
