import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Job, JobCounts, Queue } from 'bull';
import { AppConfig } from 'src/config/app-config';
import { jobStanding } from 'src/notifications/job-standing';
import { EMAIL_QUEUE, emailJobOptions, SEND_EMAIL_JOB } from 'src/notifications/queue.constants';

/** How long one Redis round of the relay may take before the pass gives up (rows stay in the outbox). */
export const REDIS_TIMEOUT_MS = 3000;

export class QueueUnavailableError extends Error {}

export type QueueOverview = { name: string; counts: Required<JobCounts> & { paused: number }; repeatable: { name: string; cron: string; tz: string | null; next: string }[] };

/** Wraps the Bull queue: jobs carry only the outbox row id, and the row id is the jobId. */
@Injectable()
export class EmailQueueProducer implements OnModuleInit {
  private readonly logger = new Logger(EmailQueueProducer.name);

  constructor(
    @InjectQueue(EMAIL_QUEUE) private readonly queue: Queue,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // An 'error' event without a listener would crash the process when Redis goes away.
    this.queue.on('error', (error) => this.logger.warn(`email queue: ${error.message}`));
  }

  /** Called each time the queue's Redis connection becomes ready: at start-up and after every reconnection. */
  onConnected(listener: () => void): void {
    this.queue.client.on('ready', listener);
  }

  /**
   * Makes sure one live job exists for each row. add() one by one, not addBulk(): the jobId deduplication must
   * hold for each row. Throws (and the caller keeps the rows in the outbox) if Redis is away or slow.
   */
  async enqueue(ids: string[]): Promise<void> {
    this.assertConnected();
    await withTimeout(Promise.all(ids.map((id) => this.ensureJob(id))), REDIS_TIMEOUT_MS);
  }

  /**
   * A job kept in Bull's failed (or completed) set would swallow a re-add with the same id, and the row would
   * never be sent: drop such a job first, and a lost one (in no list). A live job (waiting, delayed, running) already
   * covers the row.
   */
  private async ensureJob(id: string): Promise<void> {
    const standing = await jobStanding(this.queue, id);
    if (standing === 'live') return;
    if (standing === 'finished') {
      const kept = await this.queue.getJob(id);
      if (kept && !(await removeUnlessLocked(kept))) return; // taken by a worker meanwhile: live after all
    }
    const { NOTIFY_MAX_ATTEMPTS, NOTIFY_BACKOFF_MS } = this.config.env;
    await this.queue.add(SEND_EMAIL_JOB, { notificationId: id }, emailJobOptions(id, NOTIFY_MAX_ATTEMPTS, NOTIFY_BACKOFF_MS));
  }

  get queueName(): string {
    return this.queue.name;
  }

  async overview(): Promise<QueueOverview> {
    this.assertConnected();
    const [counts, paused, repeatable] = await withTimeout(
      Promise.all([this.queue.getJobCounts(), this.queue.getPausedCount(), this.queue.getRepeatableJobs()]),
      REDIS_TIMEOUT_MS,
    );
    return {
      name: this.queue.name,
      counts: { ...counts, paused },
      repeatable: repeatable.map((r) => ({ name: r.name, cron: r.cron, tz: r.tz ?? null, next: new Date(r.next).toISOString() })),
    };
  }

  /**
   * Commands sent while Redis is down wait in ioredis' offline queue and run whenever it returns; the relay
   * polls every second, so fail fast instead of piling up adds that the outbox will redo anyway.
   */
  private assertConnected(): void {
    if (this.queue.client.status !== 'ready') throw new QueueUnavailableError(`Redis is not connected (${this.queue.client.status})`);
  }
}

async function removeUnlessLocked(job: Job): Promise<boolean> {
  try {
    await job.remove();
    return true;
  } catch {
    return false; // Bull refuses to remove a locked (active) job
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'Redis did not answer'): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QueueUnavailableError(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
