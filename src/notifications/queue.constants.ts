import type { AdvancedSettings, JobOptions } from 'bull';
import type { Env } from 'src/config/env.schema';

export const EMAIL_QUEUE = 'email';
export const SEND_EMAIL_JOB = 'send';
export const REVIEWER_DIGEST_JOB = 'reviewer-digest';
/** Fixed: every worker registers the same repeatable job, so Redis holds one schedule however many workers run. */
export const REVIEWER_DIGEST_JOB_ID = 'reviewer-digest';

export const emailJobOptions = (notificationId: string, attempts: number, backoffMs: number): JobOptions => ({
  // The row id as jobId: Bull drops a second add() of the same id while the first job exists.
  jobId: notificationId,
  attempts,
  backoff: { type: 'exponential', delay: backoffMs },
  removeOnComplete: true,
  // Kept for a while for the queue view; the producer removes a kept job before re-adding its row.
  removeOnFail: 1000,
});

/** Defaults, also the shared settings of BullModule.forRoot; the email queue uses emailQueueSettings(env). */
export const EMAIL_QUEUE_SETTINGS: AdvancedSettings = {
  // An active job's lock, renewed every lockRenewTime while its worker lives. It must outlast the longest SMTP
  // exchange (connection + greeting + socket timeouts): a job whose lock lapses is handed to another worker.
  lockDuration: 60_000,
  lockRenewTime: 30_000,
  stalledInterval: 30_000,
  // A job whose worker died this many times fails instead of killing workers forever; the sweeper re-drives its row.
  maxStalledCount: 2,
};

export function emailQueueSettings(env: Pick<Env, 'QUEUE_LOCK_DURATION_MS' | 'QUEUE_STALLED_INTERVAL_MS' | 'QUEUE_MAX_STALLED_COUNT'>): AdvancedSettings {
  return {
    ...EMAIL_QUEUE_SETTINGS,
    lockDuration: env.QUEUE_LOCK_DURATION_MS,
    lockRenewTime: Math.floor(env.QUEUE_LOCK_DURATION_MS / 2),
    stalledInterval: env.QUEUE_STALLED_INTERVAL_MS,
    maxStalledCount: env.QUEUE_MAX_STALLED_COUNT,
  };
}

/**
 * Connection options Bull's own URL parser leaves out: it reads host, port, database and password from REDIS_URL but
 * not its scheme, so a `rediss://` URL (TLS, as managed Redis services require) gave the queues a plain-text connection
 * while the readiness probe (ioredis, which reads the scheme) spoke TLS and said Redis was up.
 */
export function queueRedisOptions(redisUrl: string): { tls?: Record<string, never> } {
  return /^rediss:/i.test(redisUrl) ? { tls: {} } : {};
}
