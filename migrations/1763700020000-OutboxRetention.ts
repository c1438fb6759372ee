import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finds the emails whose context OutboxRetentionService empties: done with (sent or dead) and not yet emptied. Once
 * emptied a row leaves the index, so it stays the size of the retention window however long the table grows.
 * Built CONCURRENTLY, outside a transaction: every email sent writes to notifications.
 */
export class OutboxRetention1763700020000 implements MigrationInterface {
  name = 'OutboxRetention1763700020000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS notifications_retention_idx`);
    await q.query(
      `CREATE INDEX CONCURRENTLY notifications_retention_idx ON notifications (created_at) WHERE status IN ('sent', 'dead') AND context <> '{}'::jsonb`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS notifications_retention_idx`);
  }
}
