import { DataSource } from 'typeorm';
import type { AssessmentTier } from 'src/notifications/templates/template-contexts';
import { conflictedChildrenSql, reviewerConflictSql } from 'src/review/reviewer-conflict-sql';

/** Each list of an email shows at most this many (the oldest first); its count says how many wait in all. */
export const DIGEST_MAX_ITEMS = 100;
/**
 * How many of each list's oldest are read once for every reviewer, each taking theirs from it (overduePerReviewer):
 * room for DIGEST_HEAD - DIGEST_MAX_ITEMS that a reviewer may not decide before their list is read on its own.
 */
export const DIGEST_HEAD = 500;
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
/**
 * `waiting` and `inReview`: every overdue application, whoever may decide it. `everyone`: the lists of a reviewer who
 * may decide them all; `byReviewer`: those of each reviewer who may not decide some overdue application.
 */
export type Overdue = { waiting: number; inReview: number; everyone: DigestLists; byReviewer: Map<string, DigestLists> };

export type SecondApprovalRow = { reference: string; first_approved_at: Date; waiting_days: number; first_approver_id: string; conflicted_reviewer_ids: string[] };

type ListKey = keyof DigestLists;
/** Each list's applications (status) and when their wait started. */
const LISTS: readonly { key: ListKey; status: string; since: string }[] = [
  { key: 'waiting', status: 'submitted', since: 'submitted_at' },
  { key: 'inReview', status: 'under_review', since: 'updated_at' },
];
/** Over an application row `a`: its list and when its wait started. */
const LIST_OF = `CASE a.status ${LISTS.map((l) => `WHEN '${l.status}' THEN '${l.key}'`).join(' ')} END`;
const SINCE = `CASE a.status ${LISTS.map((l) => `WHEN '${l.status}' THEN a.${l.since}`).join(' ')} END`;

/**
 * `item`: one of a list's head, oldest first (count: the list's). `excluded`: how many of a list one reviewer may not
 * decide; `excluded_item`: one of them in the list's head.
 */
type OverdueRow = {
  kind: 'item' | 'excluded' | 'excluded_item';
  list: ListKey;
  reviewer_id: string | null;
  count: number | null;
  reference: string | null;
  since: Date | null;
  tier: AssessmentTier | null;
  waiting_days: number | null;
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
   * For every active reviewer: the applications still `submitted` (not picked up) more than `waitingDays` days, and
   * those `under_review` as long without a decision, leaving out each one the reviewer may not decide
   * (reviewerConflictSql, the condition every review action checks), each list counted whole and cut to the oldest
   * DIGEST_MAX_ITEMS.
   *
   * Not by pairing every reviewer with every overdue application: 200 reviewers × 300,000 applications outran the
   * statement timeout, so on the days the queue was longest nobody got a digest. One statement reads each list's count
   * and its DIGEST_HEAD oldest once for everyone, and, from each reviewer, only what they may not decide — their own
   * applications, their linked families' and hospitals' (from reviewer_conflicts, through the indexes on applicant_id
   * and hospital_id), and those for the children of those families (through the open applications' index on the
   * child's id hash). A reviewer's count is the list's less theirs. Their oldest DIGEST_MAX_ITEMS lie
   * within the list's oldest DIGEST_MAX_ITEMS + (as many as they may not decide), so they are the head less theirs,
   * unless theirs take more than DIGEST_HEAD - DIGEST_MAX_ITEMS of it (a hospital that sent most of the oldest cases):
   * that reviewer's list is then read on its own. A reviewer who may decide everything gets the head as it is.
   *
   * Under review, the clock is the row's updated_at: while a case is under_review nothing writes its row but the step
   * that moves it on (request-info, approve, reject), so updated_at is when review started, the last step it took.
   * The latest audit event would also count document downloads, the family's own among them: a case read again and
   * again but never decided would never be reminded of.
   */
  async overduePerReviewer(shape: ApplicationsShape, at: Date, waitingDays: number): Promise<Overdue> {
    const rows = (await this.dataSource.query(
      `WITH overdue AS MATERIALIZED (
              SELECT a.reference, ${tierSql(shape)} AS tier, ${LIST_OF} AS list, ${SINCE} AS since
                FROM applications a WHERE ${overdueSql(LISTS)}),
            totals AS (SELECT list, count(*)::int AS total FROM overdue GROUP BY list),
            head AS (${LISTS.map((l) => `(SELECT * FROM overdue WHERE list = '${l.key}' ORDER BY since, reference LIMIT ${DIGEST_HEAD})`).join(' UNION ALL ')}),
            head_end AS (SELECT DISTINCT ON (list) list, since, reference FROM head ORDER BY list, since DESC, reference DESC),
            reviewers AS MATERIALIZED (SELECT id FROM users WHERE ${ACTIVE_REVIEWER}),
            -- reviewerConflictSql read the other way, from the reviewer to what it flags: kept in step with it.
            conflicted AS MATERIALIZED (
              SELECT r.id AS reviewer_id, a.reference, ${LIST_OF} AS list, ${SINCE} AS since
                FROM reviewers r JOIN applications a ON a.applicant_id = r.id WHERE ${overdueSql(LISTS)}
              UNION
              SELECT rc.reviewer_id, a.reference, ${LIST_OF}, ${SINCE}
                FROM reviewer_conflicts rc JOIN applications a ON a.applicant_id = rc.applicant_id
               WHERE rc.reviewer_id IN (SELECT id FROM reviewers) AND ${overdueSql(LISTS)}
              UNION
              SELECT rc.reviewer_id, a.reference, ${LIST_OF}, ${SINCE}
                FROM reviewer_conflicts rc JOIN applications a ON a.hospital_id = rc.hospital_id
               WHERE rc.reviewer_id IN (SELECT id FROM reviewers) AND ${overdueSql(LISTS)}
              UNION
              -- The children of those families (the reviewer's own account among them), whoever applied for them.
              SELECT x.reviewer_id, a.reference, ${LIST_OF}, ${SINCE}
                FROM (SELECT id AS reviewer_id, id AS family_id FROM reviewers
                      UNION SELECT rc.reviewer_id, rc.applicant_id FROM reviewer_conflicts rc
                             WHERE rc.reviewer_id IN (SELECT id FROM reviewers) AND rc.applicant_id IS NOT NULL) x
                JOIN applications f ON f.applicant_id = x.family_id AND f.patient_national_id_hash IS NOT NULL
                JOIN applications a ON a.patient_national_id_hash = f.patient_national_id_hash
               WHERE ${overdueSql(LISTS)})
       SELECT 'item' AS kind, h.list, NULL AS reviewer_id, t.total AS count, h.reference, h.since, h.tier, ${waitedSince('h.since').days} AS waiting_days
         FROM head h JOIN totals t USING (list)
       UNION ALL
       SELECT 'excluded', list, reviewer_id::text, count(*)::int, NULL, NULL, NULL, NULL FROM conflicted GROUP BY reviewer_id, list
       UNION ALL
       -- Which of the head each reviewer may not decide: theirs up to the head's last, found against head_end's two
       -- rows; joined to head itself, a planner misjudging the sets' sizes made a nested loop of head × conflicted.
       SELECT 'excluded_item', c.list, c.reviewer_id::text, NULL, c.reference, NULL, NULL, NULL
         FROM conflicted c JOIN head_end e ON e.list = c.list AND (c.since, c.reference) <= (e.since, e.reference)
        ORDER BY kind, list, since, reference`,
      [at.toISOString(), waitingDays],
    )) as OverdueRow[];

    const totals: Record<ListKey, number> = { waiting: 0, inReview: 0 };
    const head: Record<ListKey, OverdueItem[]> = { waiting: [], inReview: [] };
    const excluded = new Map<string, { counts: Record<ListKey, number>; items: Set<string> }>();
    for (const row of rows) {
      if (row.kind === 'item') {
        totals[row.list] = row.count!;
        head[row.list].push({ reference: row.reference!, since: row.since!, waitingDays: row.waiting_days!, tier: row.tier });
        continue;
      }
      let theirs = excluded.get(row.reviewer_id!);
      if (!theirs) excluded.set(row.reviewer_id!, (theirs = { counts: { waiting: 0, inReview: 0 }, items: new Set() }));
      if (row.kind === 'excluded') theirs.counts[row.list] = row.count!;
      else theirs.items.add(row.reference!);
    }

    const byReviewer = new Map<string, DigestLists>();
    for (const [reviewerId, theirs] of excluded) {
      const lists = {} as DigestLists;
      for (const { key } of LISTS) {
        const total = totals[key] - theirs.counts[key];
        let items = head[key].filter((item) => !theirs.items.has(item.reference)).slice(0, DIGEST_MAX_ITEMS);
        // Fewer than they may decide, up to the cap: their conflicts took most of the head.
        if (items.length < Math.min(total, DIGEST_MAX_ITEMS)) items = await this.oldestDecidableBy(reviewerId, key, shape, at, waitingDays);
        lists[key] = { total, items };
      }
      byReviewer.set(reviewerId, lists);
    }
    const everyone = (key: ListKey): ReviewerList => ({ total: totals[key], items: head[key].slice(0, DIGEST_MAX_ITEMS) });
    return { waiting: totals.waiting, inReview: totals.inReview, everyone: { waiting: everyone('waiting'), inReview: everyone('inReview') }, byReviewer };
  }

  /**
   * One reviewer's oldest DIGEST_MAX_ITEMS of one list, when the shared head did not hold them: NOT
   * reviewerConflictSql with its OR taken apart, each part an anti-join (reviewer_conflicts scanned once, not for each
   * application of the list).
   */
  private async oldestDecidableBy(reviewerId: string, key: ListKey, shape: ApplicationsShape, at: Date, waitingDays: number): Promise<OverdueItem[]> {
    const rows = (await this.dataSource.query(
      `SELECT a.reference, ${SINCE} AS since, ${tierSql(shape)} AS tier, ${waitedSince(SINCE).days} AS waiting_days
         FROM applications a
        WHERE ${overdueSql(LISTS.filter((l) => l.key === key))}
          AND a.applicant_id <> $3::uuid
          AND NOT EXISTS (SELECT 1 FROM reviewer_conflicts rc WHERE rc.reviewer_id = $3::uuid AND rc.applicant_id = a.applicant_id)
          AND NOT EXISTS (SELECT 1 FROM reviewer_conflicts rc WHERE rc.reviewer_id = $3::uuid AND rc.hospital_id = a.hospital_id)
          -- The children of those families, read once (hashed): correlated, it scanned the applications for each row.
          AND (a.patient_national_id_hash IN (${conflictedChildrenSql('$3')})) IS NOT TRUE
        ORDER BY since, a.reference
        LIMIT ${DIGEST_MAX_ITEMS}`,
      [at.toISOString(), waitingDays, reviewerId],
    )) as { reference: string; since: Date; tier: AssessmentTier | null; waiting_days: number }[];
    return rows.map((r) => ({ reference: r.reference, since: r.since, waitingDays: r.waiting_days, tier: r.tier }));
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
 * Over an application row `a` and the digest's parameters: overdue in one of `lists`. Every application submitted or
 * under review has first_submitted_at (its first submission's, never cleared): said for both lists, it lets the
 * partial indexes on (hospital_id, first_submitted_at) and (status, first_submitted_at) serve.
 */
function overdueSql(lists: readonly { status: string; since: string }[]): string {
  return `a.first_submitted_at IS NOT NULL AND (${lists.map((l) => `(a.status = '${l.status}' AND ${waitedSince(`a.${l.since}`).tooLong})`).join(' OR ')})`;
}

function tierSql(shape: ApplicationsShape): string {
  return shape.tierColumn ? `a.${shape.tierColumn}::text` : 'NULL::text';
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
