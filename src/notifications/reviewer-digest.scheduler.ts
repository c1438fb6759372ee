import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { JobOptions, Queue } from 'bull';
import { parseExpression } from 'cron-parser';
import { DataSource } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { REDIS_TIMEOUT_MS, withTimeout } from 'src/notifications/email-queue.producer';
import { EMAIL_QUEUE, REVIEWER_DIGEST_JOB, REVIEWER_DIGEST_JOB_ID } from 'src/notifications/queue.constants';
import { localDay } from 'src/notifications/reviewer-digest.service';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';

/** How often a worker checks that the schedule is still in Redis (a Redis restarted without persistence loses it). */
const ENSURE_EVERY_MS = 10 * 60_000;
const DIGEST_RETRIES: JobOptions = { attempts: 3, backoff: { type: 'exponential', delay: 60_000 }, removeOnFail: 30 };

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
    @InjectDataSource(WORKER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // At start-up and after every reconnection (a Redis restarted without persistence has forgotten the schedule).
    this.queue.client.on('ready', this.onReady);
    void this.ensureSchedule();
    // Catching up waits a period: at start-up the day's own job may still be due in Redis, waiting for this worker.
    this.timer = setInterval(() => void this.ensureSchedule().then((set) => set && this.catchUp()), ENSURE_EVERY_MS);
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
            { jobId: REVIEWER_DIGEST_JOB_ID, repeat: { cron, tz }, ...DIGEST_RETRIES, removeOnComplete: true },
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

  /**
   * Adds a run of today's digest when today's scheduled time has passed and no reviewer has today's digest: the
   * scheduled run may have failed all its tries (PostgreSQL in maintenance at that hour) or been lost with a Redis
   * restarted empty. Its job id is the day's, so however many workers check, one catch-up exists; a failed one is
   * replaced at the next check, and a finished one is kept so that a day with nothing to send is caught up only once
   * (run() writes each reviewer's digest once a day whatever runs it). Returns whether it added one.
   */
  catchUp(now = new Date()): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    this.inFlight = this.addCatchUp(now);
    return this.inFlight;
  }

  private async addCatchUp(now: Date): Promise<boolean> {
    const { REVIEWER_DIGEST_CRON: cron, REVIEWER_DIGEST_TZ: tz } = this.config.env;
    const scheduledAt = parseExpression(cron, { currentDate: now, tz }).prev().toDate();
    const day = localDay(scheduledAt, tz);
    if (day !== localDay(now, tz)) return false; // today's run is still to come
    try {
      if (await this.digestWritten(day)) return false;
      return await withTimeout(
        (async () => {
          const jobId = `${REVIEWER_DIGEST_JOB_ID}:catch-up:${day}`;
          const existing = await this.queue.getJob(jobId);
          if (existing) {
            if (!(await existing.isFailed())) return false;
            await existing.remove();
          }
          // Its day is the one it is added on (the processor's fallback, job.timestamp): today, as checked above.
          await this.queue.add(REVIEWER_DIGEST_JOB, {}, { jobId, ...DIGEST_RETRIES, removeOnComplete: 30 });
          this.logger.warn(`reviewer digest of ${day} not written by its scheduled run: catching up`);
          return true;
        })(),
        REDIS_TIMEOUT_MS,
      );
    } catch (error) {
      this.logger.warn(`reviewer digest catch-up not checked (tried again in ${ENSURE_EVERY_MS / 60_000} min): ${(error as Error).message}`);
      return false;
    }
  }

  /** Whether a reviewer has the day's digest; run() keys each `reviewer-digest:<day>:<reviewer id>` (an index lookup each). */
  private async digestWritten(day: string): Promise<boolean> {
    const [{ written }] = (await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM users u JOIN notifications n ON n.dedup_key = 'reviewer-digest:' || $1 || ':' || u.id
                       WHERE u.role = 'reviewer') AS written`,
      [day],
    )) as { written: boolean }[];
    return written;
  }
}
