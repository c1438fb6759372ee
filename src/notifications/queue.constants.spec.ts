import { validateEnv } from 'src/config/env.schema';
import { emailJobOptions, emailQueueSettings, queueRedisOptions } from 'src/notifications/queue.constants';

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

  it("by default keeps retrying an email for one to six hours (Bull's own waits summed), so an SMTP provider's outage does not kill it", () => {
    const backoffs = require('bull/lib/backoffs') as { calculate: (backoff: object, attemptsMade: number, custom: object) => number };
    const { NOTIFY_MAX_ATTEMPTS, NOTIFY_BACKOFF_MS } = validateEnv({});
    const backoff = emailJobOptions('row-id', NOTIFY_MAX_ATTEMPTS, NOTIFY_BACKOFF_MS).backoff as object;
    let window = 0;
    for (let made = 1; made < NOTIFY_MAX_ATTEMPTS; made++) window += backoffs.calculate(backoff, made, {});
    expect(window).toBeGreaterThanOrEqual(3_600_000);
    expect(window).toBeLessThanOrEqual(6 * 3_600_000);
  });
});

describe('queueRedisOptions', () => {
  it('asks Bull for TLS when REDIS_URL says rediss (its URL parser reads host and port, not the scheme), and for nothing else otherwise', () => {
    expect(queueRedisOptions('rediss://user:secret@redis.example.org:6380/2')).toEqual({ tls: {} });
    expect(queueRedisOptions('REDISS://redis.example.org')).toEqual({ tls: {} });
    expect(queueRedisOptions('redis://127.0.0.1:6379')).toEqual({});
  });
});
