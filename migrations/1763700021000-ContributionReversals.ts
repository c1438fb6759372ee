import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A contribution recorded by mistake (wrong amount or donor, a transfer that bounced, the same receipt twice) is
 * corrected by a movement that reverses it, never by changing it: `contribution_reversal` moves its whole amount from
 * fund:available back to donations, once per contribution (posting key `contribution-reversal:<id>`).
 * fund_contribution_reversals says who reversed which contribution, when and why; append-only, like the contribution
 * and the journal transaction it pairs with.
 */
export class ContributionReversals1763700021000 implements MigrationInterface {
  name = 'ContributionReversals1763700021000';

  async up(q: QueryRunner): Promise<void> {
    // Weaker than the constraints they replace: every row already holds them. NOT VALID, so that this transaction's
    // exclusive lock on the ledger lasts no longer than the catalogue change; ValidateJournalKinds checks the rows
    // afterwards under a lock that lets money move meanwhile.
    await q.query(`
      ALTER TABLE journal_transactions
        DROP CONSTRAINT journal_transactions_kind_check,
        ADD CONSTRAINT journal_transactions_kind_check
          CHECK (kind IN ('contribution','commitment','release','payment','return','contribution_reversal')) NOT VALID,
        DROP CONSTRAINT journal_transactions_references,
        ADD CONSTRAINT journal_transactions_references CHECK (CASE kind
          WHEN 'contribution' THEN contribution_id IS NOT NULL
          WHEN 'contribution_reversal' THEN contribution_id IS NOT NULL
          WHEN 'commitment' THEN application_id IS NOT NULL
          WHEN 'release' THEN application_id IS NOT NULL
          ELSE application_id IS NOT NULL AND disbursement_id IS NOT NULL END) NOT VALID`);

    await q.query(`
      CREATE TABLE fund_contribution_reversals (
        contribution_id uuid PRIMARY KEY REFERENCES fund_contributions(id),
        journal_transaction_id bigint NOT NULL UNIQUE REFERENCES journal_transactions(id),
        reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
        reversed_by uuid REFERENCES users(id),
        reversed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE TRIGGER fund_contribution_reversals_append_only BEFORE UPDATE OR DELETE ON fund_contribution_reversals FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
    await q.query(`CREATE TRIGGER fund_contribution_reversals_no_truncate BEFORE TRUNCATE ON fund_contribution_reversals FOR EACH STATEMENT EXECUTE FUNCTION forbid_change()`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON fund_contribution_reversals FROM PUBLIC`);
  }

  /** Refused (by the CHECK) once a reversal was posted: the ledger would hold a movement of a kind it no longer knows. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE fund_contribution_reversals`);
    await q.query(`
      ALTER TABLE journal_transactions
        DROP CONSTRAINT journal_transactions_kind_check,
        ADD CONSTRAINT journal_transactions_kind_check CHECK (kind IN ('contribution','commitment','release','payment','return')),
        DROP CONSTRAINT journal_transactions_references,
        ADD CONSTRAINT journal_transactions_references CHECK (CASE kind
          WHEN 'contribution' THEN contribution_id IS NOT NULL
          WHEN 'commitment' THEN application_id IS NOT NULL
          WHEN 'release' THEN application_id IS NOT NULL
          ELSE application_id IS NOT NULL AND disbursement_id IS NOT NULL END)`);
  }
}
