import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Checks the ledger's rows against the constraints ContributionReversals added NOT VALID, in a transaction of its own:
 * VALIDATE CONSTRAINT reads every journal transaction under a lock that leaves inserts free, so approvals and payments
 * go on while it runs.
 */
export class ValidateJournalKinds1763700021050 implements MigrationInterface {
  name = 'ValidateJournalKinds1763700021050';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE journal_transactions VALIDATE CONSTRAINT journal_transactions_kind_check`);
    await q.query(`ALTER TABLE journal_transactions VALIDATE CONSTRAINT journal_transactions_references`);
  }

  /** Nothing to undo: a validated constraint is the same constraint. */
  async down(): Promise<void> {}
}
