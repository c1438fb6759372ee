import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PeriodicTask, RunsPeriodically } from 'src/common/scheduling/periodic-task';
import { AppConfig } from 'src/config/app-config';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';

const HOUR_MS = 60 * 60_000;

/**
 * Deletes sign-in, registration and reset counters whose window has ended (LoginThrottleService starts a new one from
 * 1 anyway): every address that ever tried, and every account name ever typed, would otherwise stay in the table for
 * good. Hourly, on any number of workers (a DELETE of what is expired is the same whoever runs it).
 */
@Injectable()
export class LoginThrottleSweepService extends RunsPeriodically {
  private readonly logger = new Logger(LoginThrottleSweepService.name);
  protected readonly task = new PeriodicTask(() => this.sweep(), {
    firstAfterMs: 60_000,
    everyMs: HOUR_MS,
    onError: (error) => this.logger.warn(`deleting expired sign-in counters failed: ${(error as Error).message}; next try in an hour`),
  });

  constructor(
    @InjectDataSource(WORKER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {
    super();
  }

  /** How many expired counters it deleted. */
  async sweep(): Promise<number> {
    const [, deleted] = (await this.dataSource.query(
      // Each counter's own window (a day for the emails an account is sent); $1 for a row of a release before the column.
      `DELETE FROM login_throttle WHERE window_started_at < now() - make_interval(secs => GREATEST(window_seconds, $1))`,
      [this.config.env.LOGIN_WINDOW_SECONDS],
    )) as [unknown, number];
    return deleted;
  }
}
