import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from 'src/config/app-config';
import { REDIS_TIMEOUT_MS, withTimeout } from 'src/notifications/email-queue.producer';
import { EMAIL_QUEUE, REVIEWER_DIGEST_JOB, REVIEWER_DIGEST_JOB_ID } from 'src/notifications/queue.constants';

/** How often a worker checks that the schedule is still in Redis (a Redis restarted without persistence loses it). */
const ENSURE_EVERY_MS = 10 * 60_000;

/**
 * Keeps exactly one repeatable digest job in Redis. Every worker runs this; the fixed jobId and cron make the
 * schedule one Redis entry and each day's run one job id, so N workers still produce one run per day.
 */
@Injectable()
export class ReviewerDigestScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReviewerDigestScheduler.name);
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private inFlight: Promise<boolean> = Promise.resolve(true);
  private readonly onReady = () => void this.ensureSchedule();

  constructor(
    @InjectQueue(EMAIL_QUEUE) private readonly queue: Queue,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // At start-up and after every reconnection (a Redis restarted without persistence has forgotten the schedule).
    this.queue.client.on('ready', this.onReady);
    void this.ensureSchedule();
    this.timer = setInterval(() => void this.ensureSchedule(), ENSURE_EVERY_MS);
    this.timer.unref();
  }

  /**
   * No new schedule commands once the application is closing, and the one in flight finishes before Bull closes its
   * connections (a later shutdown phase): a command cut off by the close rejected inside Bull, unhandled (EPIPE).
   */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.queue.client.removeListener('ready', this.onReady);
    await this.inFlight;
  }

  /** Adds the schedule and drops any other digest schedule (left by an earlier REVIEWER_DIGEST_CRON or _TZ). */
  ensureSchedule(): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    this.inFlight = this.schedule();
    return this.inFlight;
  }

  private async schedule(): Promise<boolean> {
    const { REVIEWER_DIGEST_CRON: cron, REVIEWER_DIGEST_TZ: tz } = this.config.env;
    try {
      await withTimeout(
        (async () => {
          const existing = await this.queue.getRepeatableJobs();
          for (const job of existing) {
            if (job.name === REVIEWER_DIGEST_JOB && (job.cron !== cron || (job.tz ?? null) !== tz)) await this.queue.removeRepeatableByKey(job.key);
          }
          await this.queue.add(
            REVIEWER_DIGEST_JOB,
            {},
            { jobId: REVIEWER_DIGEST_JOB_ID, repeat: { cron, tz }, attempts: 3, backoff: { type: 'exponential', delay: 60_000 }, removeOnComplete: true, removeOnFail: 30 },
          );
        })(),
        REDIS_TIMEOUT_MS,
      );
      return true;
    } catch (error) {
      this.logger.warn(`reviewer digest schedule not set yet (retried in ${ENSURE_EVERY_MS / 60_000} min): ${(error as Error).message}`);
      return false;
    }
  }
}
