import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PeriodicTask, RunsPeriodically } from 'src/common/scheduling/periodic-task';
import { AppConfig } from 'src/config/app-config';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';

const HOUR_MS = 60 * 60_000;
/** Keys deleted per statement: each commits quickly and holds few row locks. */
const BATCH = 1000;

/**
 * Deletes Idempotency-Key records older than IDEMPOTENCY_KEY_RETENTION_DAYS. A key is there so that a client retrying
 * a request (a timeout, a double click) gets the first answer instead of a second payment; no client retries a
 * request weeks later, and each record keeps the answer it replays (amounts, names, a hospital's bank account) for
 * good otherwise. The money paths stay guarded after that by their own rules (a tranche paid is not paid again).
 * Hourly, on any number of workers (SKIP LOCKED: each deletes what the others are not deleting).
 */
@Injectable()
export class IdempotencyKeySweepService extends RunsPeriodically {
  private readonly logger = new Logger(IdempotencyKeySweepService.name);
  protected readonly task = new PeriodicTask(() => this.sweep(), {
    firstAfterMs: 60_000,
    everyMs: HOUR_MS,
    onError: (error) => this.logger.warn(`deleting old idempotency keys failed: ${(error as Error).message}; next try in an hour`),
  });

  constructor(
    @InjectDataSource(WORKER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {
    super();
  }

  /** How many keys it deleted (through idempotency_keys_created_idx, the oldest first). */
  async sweep(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const [, count] = (await this.dataSource.query(
        `DELETE FROM idempotency_keys WHERE (principal, key) IN (
           SELECT principal, key FROM idempotency_keys WHERE created_at < now() - make_interval(days => $1)
            ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [this.config.env.IDEMPOTENCY_KEY_RETENTION_DAYS, BATCH],
      )) as [unknown, number];
      deleted += count;
      if (count < BATCH || this.task.stopped) break;
    }
    if (deleted > 0) this.logger.log(`deleted ${deleted} idempotency key(s) older than ${this.config.env.IDEMPOTENCY_KEY_RETENTION_DAYS} days`);
    return deleted;
  }
}
