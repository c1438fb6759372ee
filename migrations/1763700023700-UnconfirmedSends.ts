import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How many times an email's whole message reached the SMTP server and the connection then failed before the server
 * confirmed it (EmailDeliveryService): each may have been delivered. The second ends the row as dead instead of
 * sending it again (a server that keeps dropping after the message would otherwise deliver it once per attempt).
 * A constant default: no table rewrite.
 */
export class UnconfirmedSends1763700023700 implements MigrationInterface {
  name = 'UnconfirmedSends1763700023700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications ADD COLUMN unconfirmed_sends smallint NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications DROP COLUMN unconfirmed_sends`);
  }
}
