import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a scheduled tranche last went out in a payment file (GET /disbursements/export). A tranche in a file the bank
 * may be executing is not cancelled without saying the bank will not pay it (GrantCancellationService): cancelled,
 * its money would go back to the fund's available balance while the bank pays it anyway, and that payment could
 * then never be recorded. Nullable without a default: adding it rewrites nothing.
 *
 * Files exported before this release are in the audit trail (disbursements.exported, with the hospital it was limited
 * to): a tranche still scheduled that was already scheduled when such a file was made is stamped with that file's
 * time, so that the files a bank may be executing during the upgrade are covered too.
 */
export class TranchesInPaymentFiles1763700016000 implements MigrationInterface {
  name = 'TranchesInPaymentFiles1763700016000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE disbursements ADD COLUMN exported_at timestamptz`);
    await TranchesInPaymentFiles1763700016000.stampTranchesOfEarlierFiles(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE disbursements DROP COLUMN exported_at`);
  }

  /** Stamps the tranches still scheduled that earlier payment files (their audit events) held. */
  static async stampTranchesOfEarlierFiles(q: { query(sql: string): Promise<unknown> }): Promise<void> {
    await q.query(`
      UPDATE disbursements d SET exported_at = f.exported_at
        FROM (SELECT s.id, max(e.occurred_at) AS exported_at
                FROM disbursements s
                JOIN audit_events e ON e.action = 'disbursements.exported'
                                   AND coalesce(e.summary ->> 'status', 'scheduled') = 'scheduled'
                                   AND (e.summary ->> 'hospitalId' IS NULL OR e.summary ->> 'hospitalId' = s.hospital_id::text)
                                   AND e.occurred_at >= s.updated_at
               WHERE s.status = 'scheduled'
               GROUP BY s.id) f
       WHERE d.id = f.id`);
  }
}
