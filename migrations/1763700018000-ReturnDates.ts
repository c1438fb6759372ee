import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The day the bank returned a payment, as fund finance states it (it may record the return days later, after a
 * holiday). A payment made again is dated from this day, and the reports count the return in its month. Payments
 * returned before keep it null and are read by the Shanghai day the return was recorded, as before.
 */
export class ReturnDates1763700018000 implements MigrationInterface {
  name = 'ReturnDates1763700018000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE disbursement_payments ADD COLUMN returned_on date`);
    await q.query(`
      ALTER TABLE disbursement_payments ADD CONSTRAINT disbursement_payments_returned_on_check
        CHECK (returned_on IS NULL OR (returned_at IS NOT NULL AND returned_on >= paid_on))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE disbursement_payments DROP COLUMN returned_on`);
  }
}
