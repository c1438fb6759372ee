import { emailJobOptions, emailQueueSettings } from 'src/notifications/queue.constants';

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
});
