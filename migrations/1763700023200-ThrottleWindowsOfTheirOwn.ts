import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A counter's window length is kept with it: beside the 15-minute windows, the verification and reset emails an
 * account is sent are counted over a day (LoginThrottleService), and the sweep deletes each counter once its own window
 * has ended. Existing counters are of the 15-minute kind.
 */
export class ThrottleWindowsOfTheirOwn1763700023200 implements MigrationInterface {
  name = 'ThrottleWindowsOfTheirOwn1763700023200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE login_throttle ADD COLUMN window_seconds integer NOT NULL DEFAULT 900 CHECK (window_seconds > 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE login_throttle DROP COLUMN window_seconds`);
  }
}
