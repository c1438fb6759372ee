import { MigrationInterface, QueryRunner } from 'typeorm';

/** An optional idempotency key on outbox rows: the reviewer digest writes at most one row per reviewer and day. */
export class NotificationDedupKey1763700003000 implements MigrationInterface {
  name = 'NotificationDedupKey1763700003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications ADD COLUMN dedup_key text CHECK (length(dedup_key) BETWEEN 1 AND 200)`);
    await q.query(`CREATE UNIQUE INDEX notifications_dedup_key_key ON notifications (dedup_key) WHERE dedup_key IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS notifications_dedup_key_key`);
    await q.query(`ALTER TABLE notifications DROP COLUMN IF EXISTS dedup_key`);
  }
}
