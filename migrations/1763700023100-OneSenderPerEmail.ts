import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A send claims its outbox row before it talks to the SMTP server (EmailDeliveryService): `sending_until` is the
 * claim's end, as long as a job's queue lock. A second job for the same row meanwhile (a re-added or re-dispatched
 * job) finds the claim and waits for its retry instead of sending the email a second time. Null: nobody is sending it.
 */
export class OneSenderPerEmail1763700023100 implements MigrationInterface {
  name = 'OneSenderPerEmail1763700023100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications ADD COLUMN sending_until timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications DROP COLUMN sending_until`);
  }
}
