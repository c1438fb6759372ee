import { DataSource } from 'typeorm';
import type { AssessmentTier } from 'src/notifications/templates/template-contexts';
import { reviewerConflictSql } from 'src/review/reviewer-conflict-sql';

/** Each list of an email shows at most this many (the oldest first); its count says how many wait in all. */
export const DIGEST_MAX_ITEMS = 100;
/** Grants awaiting a second approval read at most (they wait on a reviewer's signature, so there are few). */
const SECOND_APPROVALS_READ = 1000;
/** Over users: the reviewers a digest goes to — active, and with their invitation accepted (an unproven address gets no list of applications). */
export const ACTIVE_REVIEWER = `role = 'reviewer' AND disabled_at IS NULL AND password_hash IS NOT NULL`;
/** Columns that may hold an application's latest assessment tier, in order of preference. */
const TIER_COLUMNS = ['assessment_tier', 'latest_tier', 'tier'];

export type ApplicationsShape = { tierColumn: string | null };

export type OverdueItem = { reference: string; since: Date; waitingDays: number; tier: AssessmentTier | null };
/** One reviewer's share of a list: how many they may decide, and the oldest DIGEST_MAX_ITEMS of them. */
export type ReviewerList = { total: number; items: OverdueItem[] };
export type DigestLists = { waiting: ReviewerList; inReview: ReviewerList };
/** `waiting` and `inReview`: every overdue application, whoever may decide it. */
export type Overdue = { waiting: number; inReview: number; byReviewer: Map<string, DigestLists> };

export type SecondApprovalRow = { reference: string; first_approved_at: Date; waiting_days: number; first_approver_id: string; conflicted_reviewer_ids: string[] };

type OverdueRow = {
  all_waiting: number;
  all_in_review: number;
  reviewer_id: string | null;
  list: 'waiting' | 'in_review' | null;
  reference: string;
  since: Date;
  waiting_days: number;
  tier: AssessmentTier | null;
  total: number;
};

/** The digest's reads, on the worker's connections. */
export class ReviewerDigestQueries {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The applications table belongs to another module and may not exist yet (or lack a tier column) on a database
   * migrated by an older release; the digest reads what is there instead of failing the job.
   */
  async applicationsShape(): Promise<ApplicationsShape | null> {
    const columns = (
      (await this.dataSource.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'applications'`,
      )) as { column_name: string }[]
    ).map((c) => c.column_name);
    if (!['reference', 'status', 'submitted_at', 'updated_at', 'applicant_id', 'hospital_id'].every((c) => columns.includes(c))) return null;
    return { tierColumn: TIER_COLUMNS.find((c) => columns.includes(c)) ?? null };
  }

  /**
   * In one statement, for every active reviewer: the applications still `submitted` (not picked up) more than
   * `waitingDays` days, and those `under_review` as long without a decision, leaving out each one the reviewer may not
   * decide (reviewerConflictSql, the condition every review action checks), each list counted whole and cut to the
   * oldest DIGEST_MAX_ITEMS.
   *
   * Under review, the clock is the row's updated_at: while a case is under_review nothing writes its row but the step
   * that moves it on (request-info, approve, reject), so updated_at is when review started, the last step it took.
   * The latest audit event would also count document downloads, the family's own among them: a case read again and
   * again but never decided would never be reminded of.
   */
  async overduePerReviewer(shape: ApplicationsShape, at: Date, waitingDays: number): Promise<Overdue> {
    const tier = shape.tierColumn ? `a.${shape.tierColumn}::text` : 'NULL::text';
    const rows = (await this.dataSource.query(
      `WITH reviewers AS MATERIALIZED (
              SELECT id FROM users WHERE ${ACTIVE_REVIEWER}),
            overdue AS MATERIALIZED (
              SELECT a.applicant_id, a.hospital_id, a.reference, ${tier} AS tier,
                     CASE a.status WHEN 'submitted' THEN 'waiting' ELSE 'in_review' END AS list,
                     CASE a.status WHEN 'submitted' THEN a.submitted_at ELSE a.updated_at END AS since
                FROM applications a
               WHERE (a.status = 'submitted' AND a.first_submitted_at IS NOT NULL AND ${waitedSince('a.submitted_at').tooLong})
                  OR (a.status = 'under_review' AND ${waitedSince('a.updated_at').tooLong})),
            visible AS (
              SELECT r.id AS reviewer_id, a.list, a.reference, a.since, a.tier,
                     row_number() OVER (PARTITION BY r.id, a.list ORDER BY a.since, a.reference) AS position,
                     count(*) OVER (PARTITION BY r.id, a.list)::int AS total
                FROM reviewers r JOIN overdue a ON NOT ${reviewerConflictSql('r.id')})
       SELECT t.all_waiting, t.all_in_review, v.reviewer_id, v.list, v.reference, v.since, v.tier, v.total,
              ${waitedSince('v.since').days} AS waiting_days
         FROM (SELECT count(*) FILTER (WHERE list = 'waiting')::int AS all_waiting,
                      count(*) FILTER (WHERE list = 'in_review')::int AS all_in_review FROM overdue) t
         LEFT JOIN visible v ON v.position <= ${DIGEST_MAX_ITEMS}
        ORDER BY v.reviewer_id, v.list, v.position`,
      [at.toISOString(), waitingDays],
    )) as OverdueRow[];
    const byReviewer = new Map<string, DigestLists>();
    for (const row of rows) {
      if (!row.reviewer_id || !row.list) continue; // the totals' row when no reviewer may decide anything
      let lists = byReviewer.get(row.reviewer_id);
      if (!lists) byReviewer.set(row.reviewer_id, (lists = { waiting: { total: 0, items: [] }, inReview: { total: 0, items: [] } }));
      const list = row.list === 'waiting' ? lists.waiting : lists.inReview;
      list.total = row.total;
      list.items.push({ reference: row.reference, since: row.since, waitingDays: row.waiting_days, tier: row.tier });
    }
    return { waiting: rows[0]?.all_waiting ?? 0, inReview: rows[0]?.all_in_review ?? 0, byReviewer };
  }

  /**
   * Grants first approved more than `waitingDays` days before `at` and still waiting for the second approval, each
   * with the reviewers who may not give it for a conflict of interest (the condition every review action checks).
   */
  async awaitingSecondApproval(at: Date, waitingDays: number): Promise<SecondApprovalRow[]> {
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
