import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { OutboxService } from 'src/notifications/outbox.service';
import type { AssessmentTier, ReviewerDigestItem } from 'src/notifications/templates/template-contexts';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';
import type { Locale } from 'src/users/user.entity';

/** The email lists at most this many (the oldest first); its count says how many wait in all. */
export const DIGEST_MAX_ITEMS = 100;
/** Columns that may hold an application's latest assessment tier, in order of preference. */
const TIER_COLUMNS = ['assessment_tier', 'latest_tier', 'tier'];

type WaitingRow = { reference: string; submitted_at: Date; waiting_days: number; tier: AssessmentTier | null; total: number };
type ApplicationsShape = { tierColumn: string | null };

export type DigestResult = { day: string; waiting: number; emails: number; skipped?: 'no-applications-table' };

/**
 * The daily digest: one email per active reviewer listing applications still `submitted` (not picked up) more
 * than REVIEWER_DIGEST_WAITING_DAYS days. Each reviewer's row carries the key `reviewer-digest:<day>:<user>`, so
 * however often the job runs in a day (several workers, a retried or recovered job) each reviewer gets one.
 */
@Injectable()
export class ReviewerDigestService {
  private readonly logger = new Logger(ReviewerDigestService.name);

  constructor(
    @InjectDataSource(WORKER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    private readonly config: AppConfig,
  ) {}

  async run(at: Date = new Date()): Promise<DigestResult> {
    const { REVIEWER_DIGEST_WAITING_DAYS: waitingDays, REVIEWER_DIGEST_TZ } = this.config.env;
    const day = localDay(at, REVIEWER_DIGEST_TZ);
    const shape = await this.applicationsShape();
    if (!shape) {
      this.logger.warn('reviewer digest skipped: there is no applications table yet');
      return { day, waiting: 0, emails: 0, skipped: 'no-applications-table' };
    }
    const rows = await this.waitingApplications(shape, at, waitingDays);
    const waiting = rows[0]?.total ?? 0;
    if (!waiting) return { day, waiting: 0, emails: 0 };

    const items: ReviewerDigestItem[] = rows.map((r) => ({
      reference: r.reference,
      submittedAt: r.submitted_at.toISOString(),
      waitingDays: r.waiting_days,
      tier: r.tier,
    }));
    const emails = await this.dataSource.transaction(async (tx) => {
      const reviewers = (await tx.query(
        `SELECT id, email, full_name, locale FROM users WHERE role = 'reviewer' AND disabled_at IS NULL ORDER BY id`,
      )) as { id: string; email: string; full_name: string; locale: Locale }[];
      let written = 0;
      for (const reviewer of reviewers) {
        const id = await this.outbox.enqueueOnce(tx, `reviewer-digest:${day}:${reviewer.id}`, {
          event: 'review.digest',
          template: 'reviewer-digest',
          to: { email: reviewer.email, userId: reviewer.id, locale: reviewer.locale },
          context: { fullName: reviewer.full_name, waitingDays, count: waiting, items, queueUrl: this.config.publicUrl('/review/queue') },
        });
        if (id) written++;
      }
      return written;
    });
    this.logger.log({ day, waiting, emails }, 'reviewer digest written');
    return { day, waiting, emails };
  }

  /**
   * The applications table belongs to another module and may not exist yet (or lack a tier column) on a database
   * migrated by an older release; the digest reads what is there instead of failing the job.
   */
  private async applicationsShape(): Promise<ApplicationsShape | null> {
    const columns = (
      (await this.dataSource.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'applications'`,
      )) as { column_name: string }[]
    ).map((c) => c.column_name);
    if (!['reference', 'status', 'submitted_at'].every((c) => columns.includes(c))) return null;
    return { tierColumn: TIER_COLUMNS.find((c) => columns.includes(c)) ?? null };
  }

  private async waitingApplications(shape: ApplicationsShape, at: Date, waitingDays: number): Promise<WaitingRow[]> {
    const tier = shape.tierColumn ? `a.${shape.tierColumn}::text` : 'NULL::text';
    return (await this.dataSource.query(
      `SELECT a.reference, a.submitted_at, ${tier} AS tier,
              floor(extract(epoch FROM ($1::timestamptz - a.submitted_at)) / 86400)::int AS waiting_days,
              count(*) OVER ()::int AS total
         FROM applications a
        WHERE a.status = 'submitted' AND a.submitted_at < $1::timestamptz - make_interval(days => $2)
        ORDER BY a.submitted_at, a.reference
        LIMIT ${DIGEST_MAX_ITEMS}`,
      [at.toISOString(), waitingDays],
    )) as WaitingRow[];
  }
}

/** The calendar day of `at` in the fund's time zone, `YYYY-MM-DD`. */
export function localDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}
