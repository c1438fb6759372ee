import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PeriodicTask, RunsPeriodically } from 'src/common/scheduling/periodic-task';
import { AppConfig } from 'src/config/app-config';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';

/** Rows emptied per statement: each commits quickly and holds few row locks. */
const BATCH = 1000;
/**
 * At most this many per pass, a breath between batches: the first pass after an upgrade meets every email ever sent
 * (millions), and emptying them at once would flood the WAL and replicas and load the database for an hour. At
 * 100,000 an hour, ten million take four days.
 */
const MAX_PER_PASS = 100_000;
const PAUSE_BETWEEN_BATCHES_MS = 200;
const EVERY_MS = 60 * 60_000;
/** The first pass waits for start-up's own work (the relay, the digest's schedule). */
const FIRST_PASS_AFTER_MS = 60_000;

/** One batch: $1 the retention in days, $2 how many at most; found through notifications_retention_idx. */
export const EMPTY_BATCH_SQL = `
  UPDATE notifications SET context = '{}'::jsonb, updated_at = now()
   WHERE id IN (SELECT id FROM notifications
                 WHERE status IN ('sent', 'dead') AND context <> '{}'::jsonb AND created_at < now() - make_interval(days => $1)
                 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`;

/**
 * Empties the context of emails done with — sent, or dead — once they are OUTBOX_RETENTION_DAYS old. The context is
 * what the email said (names, amounts, reasons, a hospital's bank reference): copies of data the fund keeps where it
 * belongs, with no use once the email is delivered, and it would otherwise stay for good in a table every admin can
 * page through. The row stays (template, recipient, when it was sent, the Message-ID), so "did we tell this family,
 * and when?" can still be answered. A dead email emptied can no longer be retried (409 notification-expired).
 */
@Injectable()
export class OutboxRetentionService extends RunsPeriodically {
  private readonly logger = new Logger(OutboxRetentionService.name);
  protected readonly task = new PeriodicTask(() => this.purge(), {
    firstAfterMs: FIRST_PASS_AFTER_MS,
    everyMs: EVERY_MS,
    onError: (error) => this.logger.warn(`emptying old emails' contents failed; next try in an hour: ${(error as Error).message}`),
  });

  constructor(
    @InjectDataSource(WORKER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {
    super();
  }

  /** Empties contexts past retention, a batch at a time, up to `max` (several workers share the work: SKIP LOCKED). */
  async purge(max = MAX_PER_PASS, pauseMs = PAUSE_BETWEEN_BATCHES_MS): Promise<number> {
    let emptied = 0;
    while (emptied < max && !this.task.stopped) {
      const [, count] = (await this.dataSource.query(EMPTY_BATCH_SQL, [this.config.env.OUTBOX_RETENTION_DAYS, Math.min(BATCH, max - emptied)])) as [
        unknown,
        number,
      ];
      emptied += count;
      if (count < BATCH) break;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    if (emptied > 0) this.logger.log(`emptied the contents of ${emptied} email(s) older than ${this.config.env.OUTBOX_RETENTION_DAYS} days`);
    return emptied;
  }
}
