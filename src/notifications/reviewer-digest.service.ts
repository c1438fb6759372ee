import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { OutboxService } from 'src/notifications/outbox.service';
import { ACTIVE_REVIEWER, DIGEST_MAX_ITEMS, ReviewerDigestQueries } from 'src/notifications/reviewer-digest.queries';
import type { ReviewerDigestSecondApproval } from 'src/notifications/templates/template-contexts';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';
import type { Locale } from 'src/users/user.entity';

export type DigestResult = {
  day: string;
  /** Overdue in all (submitted, under review, awaiting a second approval), before each reviewer's share is taken. */
  waiting: number;
  inReview: number;
  secondApprovals: number;
  emails: number;
  skipped?: 'no-applications-table' | 'day-passed';
};

/**
 * The daily digest: one email per active reviewer listing applications still `submitted` (not picked up) more
 * than REVIEWER_DIGEST_WAITING_DAYS days, applications `under_review` as long without a decision (their reviewer may
 * be away), and grants that have waited as long for a second approval — the large grants, whose family may be
 * waiting on it for a transplant. Each reviewer's lists leave out what they may not decide for a conflict of interest
 * (what every review action refuses them with 403), and the second approvals they gave the first; a reviewer left
 * with nothing gets no email. Each reviewer's row carries the key `reviewer-digest:<day>:<user>`, so however often the
 * job runs in a day (several workers, a retried or recovered job) each reviewer gets one.
 */
@Injectable()
export class ReviewerDigestService {
  private readonly logger = new Logger(ReviewerDigestService.name);
  private readonly queries: ReviewerDigestQueries;

  constructor(
    @InjectDataSource(WORKER_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    private readonly config: AppConfig,
  ) {
    this.queries = new ReviewerDigestQueries(dataSource);
  }

  /**
   * The digest due at `scheduledAt`. A run for a day gone by (workers down over a day, an old delayed job found in
   * Redis) sends nothing: that day's list is stale, and today's own digest says what waits now (reviewers would get
   * two). A run late on its day (an outage in the morning) counts what has waited too long at the time it sends.
   */
  async run(scheduledAt: Date = new Date(), now: Date = new Date()): Promise<DigestResult> {
    const { REVIEWER_DIGEST_WAITING_DAYS: waitingDays, REVIEWER_DIGEST_TZ } = this.config.env;
    const day = localDay(scheduledAt, REVIEWER_DIGEST_TZ);
    const nothing = { day, waiting: 0, inReview: 0, secondApprovals: 0, emails: 0 };
    if (day < localDay(now, REVIEWER_DIGEST_TZ)) {
      this.logger.warn(`reviewer digest of ${day} skipped: its day has passed`);
      return { ...nothing, skipped: 'day-passed' };
    }
    const at = scheduledAt > now ? scheduledAt : now;
    const shape = await this.queries.applicationsShape();
    if (!shape) {
      this.logger.warn('reviewer digest skipped: there is no applications table yet');
      return { ...nothing, skipped: 'no-applications-table' };
    }
    const [overdue, seconds] = await Promise.all([this.queries.overduePerReviewer(shape, at, waitingDays), this.queries.awaitingSecondApproval(at, waitingDays)]);
    const counts = { waiting: overdue.waiting, inReview: overdue.inReview, secondApprovals: seconds.length };
    if (!overdue.waiting && !overdue.inReview && !seconds.length) return nothing;

    const emails = await this.dataSource.transaction(async (tx) => {
      const reviewers = (await tx.query(`SELECT id, email, full_name, locale FROM users WHERE ${ACTIVE_REVIEWER} ORDER BY id`)) as { id: string; email: string; full_name: string; locale: Locale }[];
      let written = 0;
      for (const reviewer of reviewers) {
        const { waiting, inReview } = overdue.byReviewer.get(reviewer.id) ?? overdue.everyone;
        const mine = seconds.filter((r) => r.first_approver_id !== reviewer.id && !r.conflicted_reviewer_ids.includes(reviewer.id));
        if (!waiting.total && !inReview.total && !mine.length) continue;
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
            count: waiting.total,
            items: waiting.items.map((r) => ({ reference: r.reference, submittedAt: r.since.toISOString(), waitingDays: r.waitingDays, tier: r.tier })),
            inReviewCount: inReview.total,
            inReview: inReview.items.map((r) => ({ reference: r.reference, inReviewSince: r.since.toISOString(), waitingDays: r.waitingDays, tier: r.tier })),
            secondApprovalCount: mine.length,
            secondApprovals,
            queueUrl: this.config.publicUrl('/review/queue'),
          },
        });
        if (id) written++;
      }
      return written;
    });
    this.logger.log({ day, ...counts, emails }, 'reviewer digest written');
    return { day, ...counts, emails };
  }
}

/** The calendar day of `at` in the fund's time zone, `YYYY-MM-DD`. */
export function localDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}
