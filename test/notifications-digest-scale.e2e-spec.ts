import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DIGEST_HEAD, DIGEST_MAX_ITEMS } from 'src/notifications/reviewer-digest.queries';
import { ReviewerDigestService } from 'src/notifications/reviewer-digest.service';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';
import { NationalIdVault } from 'src/applications/national-id-vault';
import { reviewerConflictSql } from 'src/review/reviewer-conflict-sql';
import { createHospital, signedInUser, uniqueEmail } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

type Plan = { 'Actual Rows': number; 'Actual Loops': number; 'Rows Removed by Filter'?: number; 'Rows Removed by Join Filter'?: number; Plans?: Plan[] };

/** The most rows one step of a plan handled: produced, or read and thrown away by a filter, over all its loops. */
function busiestStep(plan: Plan): number {
  const own = (plan['Actual Rows'] + (plan['Rows Removed by Filter'] ?? 0) + (plan['Rows Removed by Join Filter'] ?? 0)) * plan['Actual Loops'];
  return Math.max(own, ...(plan.Plans ?? []).map(busiestStep));
}

// Many reviewers, a queue longer than what one email lists, and conflicts that take most of its oldest cases.
describe('Daily reviewer digest with many reviewers and a long queue (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SMTP_TIMEOUT_MS: '10000' });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  it("gives each reviewer the count and the oldest hundred of what they may decide, reading the queue once, not once per reviewer", async () => {
    const admin = await signedInUser(t, 'admin');
    const [big, mid, other] = [await createHospital(t, admin), await createHospital(t, admin), await createHospital(t, admin)];
    // Rows written straight away (forty sign-ups and a thousand submissions through HTTP would take minutes): only what
    // the digest reads. The password hash only marks an accepted invitation; nobody signs in with it.
    const user = async (role: 'reviewer' | 'applicant') =>
      ((await t.dataSource.query(`INSERT INTO users (email, full_name, role, password_hash, locale) VALUES ($1, 'Scale Test', $2, 'not-a-hash', 'en') RETURNING id`, [uniqueEmail(role), role])) as { id: string }[])[0].id;
    const reviewers: string[] = [];
    for (let i = 0; i < 40; i++) reviewers.push(await user('reviewer'));
    const [linkedToBig, linkedToMid, linkedToFamily, linkedToBoth, owner] = reviewers;
    const [family, linkedFamily] = [await user('applicant'), await user('applicant')];
    const conflict = (reviewer: string, body: object) => t.http.post(`/api/v1/users/${reviewer}/conflicts`).set(admin.auth).send(body).expect(201);
    await conflict(linkedToBig, { hospitalId: big.id });
    await conflict(linkedToMid, { hospitalId: mid.id });
    await conflict(linkedToFamily, { applicantId: linkedFamily });
    await conflict(linkedToBoth, { hospitalId: big.id });
    await conflict(linkedToBoth, { applicantId: linkedFamily }); // some of that family's cases are big's: counted once

    // Position 1 is the oldest. Waiting: big sends 9 in 10 of the oldest DIGEST_HEAD + 100 (more of the head than
    // linkedToBig's room in it: their list is read on their own), mid every tenth (linkedToMid's comes from the head),
    // other the newest. Under review, big sends 9 in 10 of the oldest 120 of 150 (linkedToBig may decide fewer than the
    // cap). Every seventh is linkedFamily's, every thirteenth the owner's own (a family account made reviewer); a few
    // are not overdue, or not in a list at all.
    const waiting = DIGEST_HEAD + 300;
    const hospitalAt = (i: number, limit: number) => (i % 10 === 0 ? mid.id : i <= limit ? big.id : other.id);
    const rows = [
      ...Array.from({ length: waiting }, (_, k) => ({ n: k + 1, status: 'submitted', hospital: hospitalAt(k + 1, DIGEST_HEAD + 100), days: 5 })),
      ...Array.from({ length: 150 }, (_, k) => ({ n: 10_001 + k, status: 'under_review', hospital: hospitalAt(k + 1, 120), days: 5 })),
      ...Array.from({ length: 20 }, (_, k) => ({ n: 20_001 + k, status: k % 2 ? 'submitted' : 'under_review', hospital: other.id, days: 1 })),
      ...Array.from({ length: 20 }, (_, k) => ({ n: 30_001 + k, status: 'approved', hospital: other.id, days: 9 })),
    ].map((r) => ({ ...r, applicant: r.n % 13 === 0 ? owner : r.n % 7 === 0 ? linkedFamily : family }));
    // Every fifth names one of six children, each also named by cases of linkedFamily's and the owner's: a conflict
    // with a family covers its child's cases filed by anyone.
    // Sealed as the service seals them (start-up checks the data keys on stored ids).
    const vault = NationalIdVault.withKeys(t.config.env);
    const children = Array.from({ length: 6 }, (_, k) => vault.seal(`11010120200101${String(k).padStart(3, '0')}X`));
    await t.dataSource.query(
      `INSERT INTO applications (reference, applicant_id, hospital_id, status, submitted_at, first_submitted_at, updated_at, patient_national_id_hash, patient_national_id_enc)
       SELECT 'SPR-2026-' || lpad(r.n::text, 6, '0'), r.applicant, r.hospital, r.status, at, at, at,
              CASE WHEN r.n % 5 = 0 THEN ($2::text[])[r.n % 6 + 1] END, CASE WHEN r.n % 5 = 0 THEN ($3::text[])[r.n % 6 + 1] END
         FROM jsonb_to_recordset($1::jsonb) r(n int, applicant uuid, hospital uuid, status text, days int),
              LATERAL (SELECT now() - make_interval(days => r.days, secs => 100000 - r.n)) s(at)`,
      [JSON.stringify(rows), children.map((c) => c.hash), children.map((c) => c.encrypted)],
    );

    const worker = t.app.get<DataSource>(getDataSourceToken(WORKER_DATA_SOURCE));
    const sent: { sql: string; params?: unknown[] }[] = [];
    const query = worker.query.bind(worker);
    jest.spyOn(worker, 'query').mockImplementation((sql: string, params?: unknown[]) => (sent.push({ sql, params }), query(sql, params)));
    const result = await t.app.get(ReviewerDigestService).run(new Date()).finally(() => jest.restoreAllMocks());
    const overdue = waiting + 150;
    expect(result).toMatchObject({ waiting, inReview: 150, emails: reviewers.length });

    // What each reviewer may decide, by the shared condition pair by pair: the shape the digest must not take, fine
    // for this many.
    const expected = (await t.dataSource.query(
      `SELECT r.id, count(*) FILTER (WHERE a.status = 'submitted')::int AS count,
              coalesce((array_agg(a.reference ORDER BY a.submitted_at, a.reference) FILTER (WHERE a.status = 'submitted'))[1:${DIGEST_MAX_ITEMS}], '{}') AS waiting,
              count(*) FILTER (WHERE a.status = 'under_review')::int AS in_review_count,
              coalesce((array_agg(a.reference ORDER BY a.updated_at, a.reference) FILTER (WHERE a.status = 'under_review'))[1:${DIGEST_MAX_ITEMS}], '{}') AS in_review
         FROM users r JOIN applications a ON NOT ${reviewerConflictSql('r.id')}
        WHERE r.id = ANY($1)
          AND ((a.status = 'submitted' AND a.submitted_at < now() - interval '3 days') OR (a.status = 'under_review' AND a.updated_at < now() - interval '3 days'))
        GROUP BY r.id ORDER BY r.id`,
      [reviewers],
    )) as { id: string; count: number; waiting: string[]; in_review_count: number; in_review: string[] }[];
    const digests = await t.dataSource.query(
      `SELECT user_id AS id, (context->>'count')::int AS count,
              ARRAY(SELECT i->>'reference' FROM jsonb_array_elements(context->'items') i) AS waiting,
              (context->>'inReviewCount')::int AS in_review_count,
              ARRAY(SELECT i->>'reference' FROM jsonb_array_elements(context->'inReview') i) AS in_review
         FROM notifications WHERE template = 'reviewer-digest' ORDER BY user_id`,
    );
    expect(digests).toEqual(expected);
    const of = (id: string) => expected.find((e) => e.id === id)!;
    // The oracle itself is what the world above should give: conflicts took their share, the cap held.
    expect(of(reviewers[39])).toMatchObject({ count: waiting, in_review_count: 150 });
    expect(of(linkedToBig).count).toBe(waiting - (DIGEST_HEAD + 100 - Math.floor((DIGEST_HEAD + 100) / 10)));
    expect(of(linkedToBig).waiting.slice(0, 2)).toEqual(['SPR-2026-000010', 'SPR-2026-000020']);
    expect(of(linkedToBoth).count).toBeLessThan(of(linkedToBig).count);
    // Their own (every thirteenth), and every case of the six children, whose cases among theirs name them all.
    const ownersOrTheirChildren = Array.from({ length: waiting }, (_, k) => k + 1).filter((n) => n % 13 === 0 || n % 5 === 0).length;
    expect(of(owner).count).toBe(waiting - ownersOrTheirChildren);
    for (const e of expected) expect(e.waiting).toHaveLength(DIGEST_MAX_ITEMS);

    // A handful of reads of applications for forty reviewers, not one per reviewer (the worker's relay and sends go on
    // meanwhile, on notifications). Read alone: only the waiting lists of the two whose conflicts took most of the head.
    const reads = sent.filter((s) => /\bFROM applications\b/.test(s.sql) && !/\b(INSERT|UPDATE|DELETE)\b/.test(s.sql));
    expect(reads.length).toBeLessThan(10);
    expect(reads.flatMap((s) => (s.params ?? []).filter((p) => reviewers.includes(p as string))).sort()).toEqual([linkedToBig, linkedToBoth].sort());
    // Pairing each reviewer with each overdue case makes a step of reviewers × cases rows; the digest's steps scale with
    // the queue and the conflicts.
    const busiest: { sql: string; rows: number }[] = [];
    for (const { sql, params } of reads) {
      const [{ 'QUERY PLAN': [{ Plan: plan }] }] = (await t.dataSource.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params)) as { 'QUERY PLAN': { Plan: Plan }[] }[];
      busiest.push({ sql, rows: busiestStep(plan) });
    }
    expect(busiest.filter((b) => b.rows >= (reviewers.length * overdue) / 4)).toEqual([]);
    expect(Math.max(...busiest.map((b) => b.rows))).toBeGreaterThanOrEqual(overdue); // the plans were read: the queue once
  });
});
