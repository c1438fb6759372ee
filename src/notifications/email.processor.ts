import { InjectQueue, OnQueueError, Processor } from '@nestjs/bull';
import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { AppConfig } from 'src/config/app-config';
import { withTimeout } from 'src/notifications/email-queue.producer';
import { DeliveryOutcome, EmailDeliveryService } from 'src/notifications/email-delivery.service';
import { EMAIL_QUEUE, REVIEWER_DIGEST_JOB, SEND_EMAIL_JOB } from 'src/notifications/queue.constants';
import { registerJobHandlers } from 'src/notifications/queue-handlers';
import { DigestResult, ReviewerDigestService } from 'src/notifications/reviewer-digest.service';

@Processor(EMAIL_QUEUE)
export class EmailProcessor implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(EmailProcessor.name);

  constructor(
    private readonly delivery: EmailDeliveryService,
    private readonly digest: ReviewerDigestService,
    @InjectQueue(EMAIL_QUEUE) private readonly queue: Queue,
    private readonly config: AppConfig,
  ) {}

  /**
   * Sends take NOTIFY_CONCURRENCY jobs at once per worker process, which @Process cannot (its concurrency is fixed
   * when the class is declared). A send spends most of its time waiting on PostgreSQL and the SMTP server, so a
   * handful of slots leaves the worker idle (4 slots: ~26 emails/s against a local server). Bull 4 pools the slots of
   * all names (a slot takes whichever job is next), so the digest's 1 adds a slot rather than reserving one; one digest
   * job exists per day (its job id is the day's).
   */
  onModuleInit(): void {
    this.delivery.checkTemplates(); // before the first job is taken
    registerJobHandlers(
      this.queue,
      [
        { name: SEND_EMAIL_JOB, concurrency: this.config.env.NOTIFY_CONCURRENCY, handle: (job: Job<{ notificationId: string }>) => this.send(job) },
        { name: REVIEWER_DIGEST_JOB, concurrency: 1, handle: (job: Job) => this.reviewerDigest(job) },
      ],
      {
        stopped: (name, error) => this.logger.error(`email queue: ${name} jobs stopped: ${error.message}`),
        naming: (error) => this.logger.warn(`email queue: the worker's connection was not named: ${error.message}`),
      },
    );
  }

  send(job: Job<{ notificationId: string }>): Promise<DeliveryOutcome> {
    const isLastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    return this.delivery.deliver(job.data.notificationId, isLastAttempt);
  }

  /** The day is the one the run was scheduled for, not the one a late or retried run happens on. */
  reviewerDigest(job: Job): Promise<DigestResult> {
    const scheduledAt = (job.opts as { prevMillis?: number }).prevMillis ?? job.timestamp;
    return this.digest.run(new Date(scheduledAt));
  }

  /**
   * On shutdown, stop taking jobs and let running sends finish while the database is still open: Bull and
   * TypeORM both close in the later onApplicationShutdown phase, in no guaranteed order, and a send whose
   * "sent" could not be recorded would go out again after the restart.
   */
  async onModuleDestroy(): Promise<void> {
    try {
      await withTimeout(this.queue.pause(true), this.config.env.QUEUE_LOCK_DURATION_MS, 'running sends did not finish');
    } catch (error) {
      this.logger.warn(`shutting down anyway: ${(error as Error).message}`);
    }
  }

  @OnQueueError()
  onError(error: Error): void {
    this.logger.warn(`email queue: ${error.message}`);
  }
}
