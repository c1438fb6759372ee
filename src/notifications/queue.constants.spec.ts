import { validateEnv } from 'src/config/env.schema';
import { emailJobOptions, emailQueueSettings, retryWindowMs } from 'src/notifications/queue.constants';

describe('email queue settings', () => {
  it('takes the lock and stall settings from the environment, renewing the lock at half its duration', () => {
    expect(emailQueueSettings({ QUEUE_LOCK_DURATION_MS: 60_000, QUEUE_STALLED_INTERVAL_MS: 30_000, QUEUE_MAX_STALLED_COUNT: 2 })).toMatchObject({
      lockDuration: 60_000,
      lockRenewTime: 30_000,
      stalledInterval: 30_000,
      maxStalledCount: 2,
    });
  });

  it('uses the outbox row id as the job id, with exponential backoff', () => {
    expect(emailJobOptions('row-id', 6, 5000)).toMatchObject({ jobId: 'row-id', attempts: 6, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: true });
  });

  it("by default keeps retrying an email for one to six hours, so an SMTP provider's outage does not kill it", () => {
    const { NOTIFY_MAX_ATTEMPTS, NOTIFY_BACKOFF_MS } = validateEnv({});
    const window = retryWindowMs(NOTIFY_MAX_ATTEMPTS, NOTIFY_BACKOFF_MS);
    expect(window).toBeGreaterThanOrEqual(3_600_000);
    expect(window).toBeLessThanOrEqual(6 * 3_600_000);
  });

  it("sums Bull's own exponential waits", () => {
    const backoffs = require('bull/lib/backoffs') as { calculate: (backoff: object, attemptsMade: number, custom: object) => number };
    const backoff = emailJobOptions('row-id', 8, 30_000).backoff as object;
    let total = 0;
    for (let made = 1; made < 8; made++) total += backoffs.calculate(backoff, made, {});
    expect(retryWindowMs(8, 30_000)).toBe(total);
    expect(total).toBe(30_000 * (1 + 3 + 7 + 15 + 31 + 63 + 127));
  });
});
