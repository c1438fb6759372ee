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

  constructor(
    @InjectQueue(EMAIL_QUEUE) private readonly queue: Queue,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // At start-up and after every reconnection (a Redis restarted without persistence has forgotten the schedule).
    this.queue.client.on('ready', () => void this.ensureSchedule());
    void this.ensureSchedule();
    this.timer = setInterval(() => void this.ensureSchedule(), ENSURE_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Adds the schedule and drops any other digest schedule (left by an earlier REVIEWER_DIGEST_CRON or _TZ). */
  async ensureSchedule(): Promise<boolean> {
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
