import { MigrationInterface, QueryRunner } from 'typeorm';

/** The SMTP server's reply to an accepted message ("250 2.0.0 Ok: queued as 4Xk9"), to trace it at the provider. */
export class NotificationSmtpResponse1763700003200 implements MigrationInterface {
  name = 'NotificationSmtpResponse1763700003200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications ADD COLUMN smtp_response text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications DROP COLUMN IF EXISTS smtp_response`);
  }
}
