import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { OutboxService } from 'src/notifications/outbox.service';
import type { AssessmentTier, ReviewerDigestItem, ReviewerDigestSecondApproval } from 'src/notifications/templates/template-contexts';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';
import { reviewerConflictSql } from 'src/review/reviewer-conflict-sql';
import type { Locale } from 'src/users/user.entity';

/** The email lists at most this many (the oldest first); its count says how many wait in all. */
export const DIGEST_MAX_ITEMS = 100;
/** Grants awaiting a second approval read at most (they wait on a reviewer's signature, so there are few). */
const SECOND_APPROVALS_READ = 1000;
/** Columns that may hold an application's latest assessment tier, in order of preference. */
const TIER_COLUMNS = ['assessment_tier', 'latest_tier', 'tier'];

type WaitingRow = { reference: string; submitted_at: Date; waiting_days: number; tier: AssessmentTier | null; total: number };
type SecondApprovalRow = { reference: string; first_approved_at: Date; waiting_days: number; first_approver_id: string; conflicted_reviewer_ids: string[] };
type ApplicationsShape = { tierColumn: string | null };

export type DigestResult = { day: string; waiting: number; secondApprovals: number; emails: number; skipped?: 'no-applications-table' | 'day-passed' };

/**
 * The daily digest: one email per active reviewer listing applications still `submitted` (not picked up) more
 * than REVIEWER_DIGEST_WAITING_DAYS days, and grants that have waited as long for a second approval — the large
 * grants, whose family may be waiting on it for a transplant — leaving out those the reviewer approved first (they
 * cannot give the second) or may not decide for a conflict of interest. Each reviewer's row carries the key
 * `reviewer-digest:<day>:<user>`, so however often the job runs in a day (several workers, a retried or recovered
 * job) each reviewer gets one.
 */
@Injectable()
export class ReviewerDigestService {
  private readonly logger = new Logger(ReviewerDigestService.name);

  constructor(
    @InjectDataSource(WORKER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    private readonly config: AppConfig,
  ) {}

  /**
   * The digest due at `scheduledAt`. A run for a day gone by (workers down over a day, an old delayed job found in
   * Redis) sends nothing: that day's list is stale, and today's own digest says what waits now (reviewers would get
   * two). A run late on its day (an outage in the morning) counts what has waited too long at the time it sends.
   */
  async run(scheduledAt: Date = new Date(), now: Date = new Date()): Promise<DigestResult> {
    const { REVIEWER_DIGEST_WAITING_DAYS: waitingDays, REVIEWER_DIGEST_TZ } = this.config.env;
    const day = localDay(scheduledAt, REVIEWER_DIGEST_TZ);
    if (day < localDay(now, REVIEWER_DIGEST_TZ)) {
      this.logger.warn(`reviewer digest of ${day} skipped: its day has passed`);
      return { day, waiting: 0, secondApprovals: 0, emails: 0, skipped: 'day-passed' };
    }
    const at = scheduledAt > now ? scheduledAt : now;
    const shape = await this.applicationsShape();
    if (!shape) {
      this.logger.warn('reviewer digest skipped: there is no applications table yet');
      return { day, waiting: 0, secondApprovals: 0, emails: 0, skipped: 'no-applications-table' };
    }
    const [rows, seconds] = await Promise.all([this.waitingApplications(shape, at, waitingDays), this.awaitingSecondApproval(at, waitingDays)]);
    const waiting = rows[0]?.total ?? 0;
    if (!waiting && !seconds.length) return { day, waiting: 0, secondApprovals: 0, emails: 0 };

    const items: ReviewerDigestItem[] = rows.map((r) => ({
      reference: r.reference,
      submittedAt: r.submitted_at.toISOString(),
      waitingDays: r.waiting_days,
      tier: r.tier,
    }));
    const emails = await this.dataSource.transaction(async (tx) => {
      const reviewers = (await tx.query(
        // Active reviewers who accepted their invitation (an unproven address gets no list of applications).
        `SELECT id, email, full_name, locale FROM users WHERE role = 'reviewer' AND disabled_at IS NULL AND password_hash IS NOT NULL ORDER BY id`,
      )) as { id: string; email: string; full_name: string; locale: Locale }[];
      let written = 0;
      for (const reviewer of reviewers) {
        const mine = seconds.filter((r) => r.first_approver_id !== reviewer.id && !r.conflicted_reviewer_ids.includes(reviewer.id));
        if (!waiting && !mine.length) continue;
        const secondApprovals: ReviewerDigestSecondApproval[] = mine
          .slice(0, DIGEST_MAX_ITEMS)
          .map((r) => ({ reference: r.reference, firstApprovedAt: r.first_approved_at.toISOString(), waitingDays: r.waiting_days }));
        const id = await this.outbox.enqueueOnce(tx, `reviewer-digest:${day}:${reviewer.id}`, {
          event: 'review.digest',
          template: 'reviewer-digest',
          to: { email: reviewer.email, userId: reviewer.id, locale: reviewer.locale },
          context: {
            fullName: reviewer.full_name,
            waitingDays,
            count: waiting,
            items,
            secondApprovalCount: mine.length,
            secondApprovals,
            queueUrl: this.config.publicUrl('/review/queue'),
          },
        });
        if (id) written++;
      }
      return written;
    });
    this.logger.log({ day, waiting, secondApprovals: seconds.length, emails }, 'reviewer digest written');
    return { day, waiting, secondApprovals: seconds.length, emails };
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
      `SELECT a.reference, a.submitted_at, ${tier} AS tier, ${waitedSince('a.submitted_at').days} AS waiting_days,
              count(*) OVER ()::int AS total
         FROM applications a
        WHERE a.status = 'submitted' AND a.first_submitted_at IS NOT NULL AND ${waitedSince('a.submitted_at').tooLong}
        ORDER BY a.submitted_at, a.reference
        LIMIT ${DIGEST_MAX_ITEMS}`,
      [at.toISOString(), waitingDays],
    )) as WaitingRow[];
  }

  /**
   * Grants first approved more than `waitingDays` days before `at` and still waiting for the second approval, each
   * with the reviewers who may not give it for a conflict of interest (the condition every review action checks).
   */
  private async awaitingSecondApproval(at: Date, waitingDays: number): Promise<SecondApprovalRow[]> {
    // The reviewers once (users holds every family too, and has no index on role), then each grant's conflicts among them.
    return (await this.dataSource.query(
      `WITH reviewers AS MATERIALIZED (SELECT id FROM users WHERE role = 'reviewer')
       SELECT a.reference, f.decided_at AS first_approved_at, f.reviewer_id AS first_approver_id, ${waitedSince('f.decided_at').days} AS waiting_days,
              ARRAY(SELECT r.id::text FROM reviewers r WHERE ${reviewerConflictSql('r.id')}) AS conflicted_reviewer_ids
         FROM applications a
         JOIN LATERAL (SELECT d.decided_at, d.reviewer_id FROM decisions d
                        WHERE d.application_id = a.id AND d.kind = 'first_approval'
                        ORDER BY d.decided_at DESC LIMIT 1) f ON true
        WHERE a.status = 'awaiting_second_approval' AND ${waitedSince('f.decided_at').tooLong}
        ORDER BY f.decided_at, a.reference
        LIMIT ${SECOND_APPROVALS_READ}`,
      [at.toISOString(), waitingDays],
    )) as SecondApprovalRow[];
  }
}

/**
 * Over the digest's parameters ($1 the run's time, $2 REVIEWER_DIGEST_WAITING_DAYS): the whole days waited since
 * `column`, and whether that is more than the setting allows.
 */
function waitedSince(column: string): { days: string; tooLong: string } {
  return {
    days: `floor(extract(epoch FROM ($1::timestamptz - ${column})) / 86400)::int`,
    tooLong: `${column} < $1::timestamptz - make_interval(days => $2)`,
  };
}

/** The calendar day of `at` in the fund's time zone, `YYYY-MM-DD`. */
export function localDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}
