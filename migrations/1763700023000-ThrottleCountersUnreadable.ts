import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sign-in counters are now keyed by a keyed hash of the account or address they count (LoginThrottleService), and the
 * worker deletes expired ones. The counters written before held what people typed as their email, and their addresses,
 * in clear, some of them for good: they are deleted. They only ever lasted a window (15 minutes by default), so the
 * cost is that an attempt counted in the last window before the upgrade is forgotten.
 */
export class ThrottleCountersUnreadable1763700023000 implements MigrationInterface {
  name = 'ThrottleCountersUnreadable1763700023000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM login_throttle`);
  }

  async down(): Promise<void> {
    // Nothing to restore: counters are transient, and the ones deleted were readable.
  }
}
