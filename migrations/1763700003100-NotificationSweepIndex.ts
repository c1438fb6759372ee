import { MigrationInterface, QueryRunner } from 'typeorm';

/** The sweeper looks for rows left queued/failed by their last update; the foundation's index is on queued_at. */
export class NotificationSweepIndex1763700003100 implements MigrationInterface {
  name = 'NotificationSweepIndex1763700003100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX notifications_sweep_idx ON notifications (updated_at) WHERE status IN ('queued','failed')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS notifications_sweep_idx`);
  }
}
