import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a scheduled tranche last went out in a payment file (GET /disbursements/export). A tranche in a file the bank
 * may be executing is not cancelled without saying the bank will not pay it (GrantCancellationService): cancelled,
 * its money would go back to the fund's available balance while the bank pays it anyway, and that payment could
 * then never be recorded. Nullable without a default: adding it rewrites nothing.
 */
export class TranchesInPaymentFiles1763700016000 implements MigrationInterface {
  name = 'TranchesInPaymentFiles1763700016000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE disbursements ADD COLUMN exported_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE disbursements DROP COLUMN exported_at`);
  }
}
