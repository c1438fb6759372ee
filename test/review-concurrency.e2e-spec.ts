import { createHospital, signedInUser, SignedIn } from 'test/support/factories';
import { createSubmittedApplication } from 'test/support/application-factory';
import { contribute } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const PROBLEM = 'https://sprout.example.org/problems/';

/** Real parallel HTTP requests: every approval is its own TCP connection into the running service. */
describe('Review under concurrency (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  type World = { admin: SignedIn; finance: SignedIn; reviewers: SignedIn[]; family: SignedIn; hospital: { id: string } };

  async function world(funds: number): Promise<World> {
    const admin = await signedInUser(t, 'admin');
    const hospital = await createHospital(t, admin);
    const family = await signedInUser(t, 'applicant', { locale: 'zh-CN' });
    const finance = await signedInUser(t, 'fund_finance');
    const reviewers = [await signedInUser(t, 'reviewer'), await signedInUser(t, 'reviewer'), await signedInUser(t, 'reviewer')];
    await contribute(t, finance, funds);
    return { admin, finance, reviewers, family, hospital };
  }

  /**
   * `count` applications under review: one built through HTTP (submit, start-review), the rest cloned from it in
   * SQL with their own ids, references and submission times (the fixture only; every decision goes through HTTP).
   */
  async function underReview(w: World, count: number): Promise<string[]> {
    const app = await createSubmittedApplication(t, w.family, w.hospital.id);
    await t.http.post(`${API}/applications/${app.id}/start-review`).set(w.reviewers[0].auth).send({}).expect(200);
    if (count > 1) {
      await t.dataSource.query(
        `INSERT INTO applications
         SELECT (jsonb_populate_record(a, jsonb_build_object(
                   'id', gen_random_uuid(),
                   'reference', 'SPR-2026-' || lpad(nextval('application_reference_seq')::text, 6, '0'),
                   'version', 1,
                   'submitted_at', a.submitted_at + g * interval '1 millisecond'))).*
           FROM applications a, generate_series(1, $2::int) g WHERE a.id = $1`,
        [app.id, count - 1],
      );
    }
    const rows = (await t.dataSource.query(`SELECT id FROM applications WHERE status = 'under_review' ORDER BY submitted_at`)) as { id: string }[];
    expect(rows).toHaveLength(count);
    return rows.map((r) => r.id);
  }

  const fund = async (w: World) => (await t.http.get(`${API}/fund`).set(w.finance.auth).expect(200)).body as Record<string, number>;

  async function expectBooksHold(w: World): Promise<void> {
    const ledger = await t.http.get(`${API}/fund/ledger/verify`).set(w.admin.auth).expect(200);
    expect(ledger.body.ok).toBe(true);
    const audit = await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200);
    expect(audit.body).toMatchObject({ ok: true, firstBrokenId: null });
    // Entry ids are drawn under the fund's lock, in commit order: the running available balance never went below 0.
    const [{ lowest }] = (await t.dataSource.query(
      `SELECT min(running)::text AS lowest FROM (SELECT sum(amount) OVER (ORDER BY id) AS running FROM ledger_entries WHERE account_code = 'fund:available') s`,
    )) as { lowest: string }[];
    expect(Number(lowest)).toBeGreaterThanOrEqual(0);
  }

  async function settled(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [{ n }] = (await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE status NOT IN ('sent','dead')`)) as { n: number }[];
      if (n === 0) return;
      if (Date.now() > deadline) throw new Error(`${n} notifications still undelivered`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('200 concurrent approvals of ¥10,000 against ¥1,000,000: exactly 100 approved, 100 insufficient-funds, never overdrawn', async () => {
    const w = await world(100_000_000);
    const ids = await underReview(w, 200);

    const started = Date.now();
    const responses = await Promise.all(
      ids.map((id, i) => t.http.post(`${API}/applications/${id}/approve`).set(w.reviewers[i % 3].auth).send({ amount: 1_000_000 })),
    );
    const elapsedMs = Date.now() - started;

    const won = responses.filter((r) => r.status === 200);
    const lost = responses.filter((r) => r.status !== 200);
    expect(won).toHaveLength(100);
    expect(lost).toHaveLength(100);
    expect(won.every((r) => r.body.status === 'approved')).toBe(true);
    expect(lost.map((r) => [r.status, r.body.type])).toEqual(Array(100).fill([409, `${PROBLEM}insufficient-funds`]));

    expect(await fund(w)).toEqual({ received: 100_000_000, available: 0, committed: 100_000_000, disbursed: 0 });
    const byStatus = (await t.dataSource.query(`SELECT status, count(*)::int AS n FROM applications GROUP BY status ORDER BY status`)) as object[];
    expect(byStatus).toEqual([
      { status: 'approved', n: 100 },
      { status: 'under_review', n: 100 },
    ]);
    // Every winner, and only the winners, has its decision, its commitment and its tranches.
    const [counts] = (await t.dataSource.query(`
      SELECT (SELECT count(*) FROM decisions)::int AS decisions,
             (SELECT count(DISTINCT application_id) FROM disbursements)::int AS scheduled,
             (SELECT count(*) FROM journal_transactions WHERE kind = 'commitment')::int AS commitments,
             (SELECT count(*) FROM notifications WHERE template = 'application-approved' AND locale = 'zh-CN')::int AS emails`)) as object[];
    expect(counts).toEqual({ decisions: 100, scheduled: 100, commitments: 100, emails: 100 });
    const lostIds = ids.filter((_, i) => responses[i].status !== 200);
    const [{ stray }] = (await t.dataSource.query(
      `SELECT count(*)::int AS stray FROM applications WHERE id = ANY($1) AND (status <> 'under_review' OR version <> 1)`,
      [lostIds],
    )) as { stray: number }[];
    expect(stray).toBe(0);
    await expectBooksHold(w);
    console.info(`200 concurrent approvals over HTTP: ${elapsedMs} ms`);
  });

  it('approve against reject on the same application: exactly one wins, every time', async () => {
    const w = await world(100_000_000);
    const ids = await underReview(w, 10);
    const results = await Promise.all(
      ids.map(async (id) => {
        const [approve, reject] = await Promise.all([
          t.http.post(`${API}/applications/${id}/approve`).set(w.reviewers[0].auth).send({ amount: 2_000_000 }),
          t.http.post(`${API}/applications/${id}/reject`).set(w.reviewers[1].auth).send({ reason: '不符合资助条件' }),
        ]);
        return { id, approve, reject };
      }),
    );
    let approvedCount = 0;
    for (const { id, approve, reject } of results) {
      expect([approve.status, reject.status].sort()).toEqual([200, 409]);
      const loser = approve.status === 409 ? approve : reject;
      expect(loser.body.type).toBe(`${PROBLEM}invalid-status-transition`);
      const [row] = (await t.dataSource.query(`SELECT status, version FROM applications WHERE id = $1`, [id])) as { status: string; version: number }[];
      expect(row.status).toBe(approve.status === 200 ? 'approved' : 'rejected');
      expect(loser.body.currentStatus).toBe(row.status);
      if (approve.status === 200) approvedCount++;
    }
    expect(await fund(w)).toMatchObject({ available: 100_000_000 - approvedCount * 2_000_000, committed: approvedCount * 2_000_000 });
    expect((await t.dataSource.query(`SELECT count(*)::int AS n FROM decisions`))[0].n).toBe(10);
    await settled();
    const decisionMails = t.mail.to(w.family.email).filter((m) => m.subject.startsWith('好消息') || m.subject.startsWith('关于您的申请'));
    expect(decisionMails).toHaveLength(10);
    await expectBooksHold(w);
  });

  it('100 parallel approvals of one application: one wins, 99 get 409, the money is committed once', async () => {
    const w = await world(100_000_000);
    const [id] = await underReview(w, 1);
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => t.http.post(`${API}/applications/${id}/approve`).set(w.reviewers[i % 3].auth).send({ amount: 3_000_000 })),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    const lost = responses.filter((r) => r.status !== 200);
    expect(lost.map((r) => [r.status, r.body.type, r.body.currentStatus])).toEqual(Array(99).fill([409, `${PROBLEM}invalid-status-transition`, 'approved']));
    expect(await fund(w)).toMatchObject({ available: 97_000_000, committed: 3_000_000 });
    const [counts] = (await t.dataSource.query(`
      SELECT (SELECT count(*) FROM decisions)::int AS decisions, (SELECT count(*) FROM disbursements)::int AS tranches,
             (SELECT count(*) FROM notifications WHERE template = 'application-approved')::int AS emails`)) as object[];
    expect(counts).toEqual({ decisions: 1, tranches: 1, emails: 1 });
    await expectBooksHold(w);
  });

  it('100 parallel approvals at the threshold by three reviewers: one first approval, at most one confirmation by someone else, the rest 409', async () => {
    const w = await world(100_000_000);
    const [id] = await underReview(w, 1);
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => t.http.post(`${API}/applications/${id}/approve`).set(w.reviewers[i % 3].auth).send({ amount: 6_000_000 })),
    );
    // A request that arrived after the first approval committed may confirm it; one that waited for its lock may not.
    const won = responses.filter((r) => r.status === 200).map((r) => r.body.status);
    expect([['awaiting_second_approval'], ['approved', 'awaiting_second_approval']]).toContainEqual(won.sort());
    expect(responses.filter((r) => r.status === 409)).toHaveLength(100 - won.length);
    const decisions = (await t.dataSource.query(`SELECT kind, reviewer_id FROM decisions ORDER BY decided_at`)) as { kind: string; reviewer_id: string }[];
    expect(decisions.map((d) => d.kind)).toEqual(['first_approval', 'second_approval'].slice(0, won.length));
    if (decisions.length === 2) expect(decisions[0].reviewer_id).not.toBe(decisions[1].reviewer_id);
    expect(await fund(w)).toMatchObject({ available: 94_000_000, committed: 6_000_000 });
    await expectBooksHold(w);
  });

  it('two reviewers approving at the threshold at one moment: one first approval, the other 409, never a confirmation of one it did not see', async () => {
    const w = await world(100_000_000);
    const [id] = await underReview(w, 1);
    // Both requests arrive while the application is under review and wait for its lock, held here until both wait.
    const holder = t.dataSource.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query(`SELECT 1 FROM applications WHERE id = $1 FOR UPDATE`, [id]);
    const approving = [0, 1].map((i) => t.http.post(`${API}/applications/${id}/approve`).set(w.reviewers[i].auth).send({ amount: 6_000_000 }).then((r) => r));
    const waiting = async () =>
      ((await t.dataSource.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE OF a%'`,
      )) as { n: number }[])[0].n;
    for (const deadline = Date.now() + 10_000; (await waiting()) < 2; ) {
      if (Date.now() > deadline) throw new Error('the two approvals never waited for the lock');
      await new Promise((r) => setTimeout(r, 20));
    }
    await holder.commitTransaction();
    await holder.release();
    const responses = await Promise.all(approving);
    expect(responses.map((r) => [r.status, r.status === 200 ? r.body.status : r.body.type]).sort()).toEqual([
      [200, 'awaiting_second_approval'],
      [409, `${PROBLEM}version-conflict`],
    ]);
    expect(((await t.dataSource.query(`SELECT kind FROM decisions`)) as { kind: string }[]).map((d) => d.kind)).toEqual(['first_approval']);
    // Having seen the first approval, the other reviewer confirms it.
    const other = responses[0].status === 409 ? w.reviewers[0] : w.reviewers[1];
    const confirmed = await t.http.post(`${API}/applications/${id}/approve`).set(other.auth).send({ amount: 6_000_000 });
    expect([confirmed.status, confirmed.body.status]).toEqual([200, 'approved']);
    await expectBooksHold(w);
  });
});
