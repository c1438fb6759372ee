import { randomUUID } from 'node:crypto';
import { createHospital, login, signedInUser, SignedIn } from 'test/support/factories';
import { applicationWorld, createSubmittedApplication, OTHER_PATIENT_NATIONAL_ID, uploadDocument } from 'test/support/application-factory';
import { contribute } from 'test/support/grant-factory';
import { listStatement } from 'src/applications/application-reads';
import { DEFAULT_MEANS_POLICY } from 'src/assessment/means-policy';
import { reviewerConflictInListSql, reviewerConflictSql } from 'src/review/reviewer-conflict-sql';
import { FundLedgerService } from 'src/fund/fund-ledger.service';
import { startTestApp, TestApp } from 'test/support/test-app';
import { ConflictsWithHospitalsLeft1763700018900 } from '../migrations/1763700018900-ConflictsWithHospitalsLeft';

const API = '/api/v1';
const PROBLEM = 'https://sprout.example.org/problems/';

describe('Review workflow (e2e)', () => {
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

  type World = Awaited<ReturnType<typeof applicationWorld>> & { reviewer: SignedIn; second: SignedIn; finance: SignedIn };

  /** A Chinese-speaking family, two reviewers, fund finance, and `funds` fen in the fund. */
  async function world(funds = 100_000_000): Promise<World> {
    const admin = await signedInUser(t, 'admin');
    const hospital = await createHospital(t, admin);
    const family = await signedInUser(t, 'applicant', { locale: 'zh-CN' });
    const reviewer = await signedInUser(t, 'reviewer');
    const second = await signedInUser(t, 'reviewer');
    const finance = await signedInUser(t, 'fund_finance');
    if (funds > 0) await contribute(t, finance, funds);
    return { admin, hospital, family, reviewer, second, finance };
  }

  const post = (path: string, who: SignedIn, body: object = {}) => t.http.post(`${API}/applications/${path}`).set(who.auth).send(body);
  const status = async (id: string) => ((await t.dataSource.query('SELECT status, version FROM applications WHERE id = $1', [id])) as { status: string; version: number }[])[0];
  const fund = async (w: World) => (await t.http.get(`${API}/fund`).set(w.finance.auth).expect(200)).body as Record<string, number>;
  const auditActions = async (id: string) =>
    ((await t.dataSource.query(`SELECT action FROM audit_events WHERE object_type = 'application' AND object_id = $1 ORDER BY id`, [id])) as { action: string }[]).map(
      (r) => r.action,
    );

  /** Waits until the outbox has delivered everything, then returns the family's mail by template subject. */
  async function settledMail(email: string) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const [{ n }] = (await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE status NOT IN ('sent','dead')`)) as { n: number }[];
      if (n === 0) break;
      if (Date.now() > deadline) throw new Error(`${n} notifications still undelivered`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return t.mail.to(email);
  }

  async function underReview(w: World, overrides = {}) {
    const app = await createSubmittedApplication(t, w.family, w.hospital.id, overrides);
    const res = await post(`${app.id}/start-review`, w.reviewer);
    expect(res.status).toBe(200);
    return app;
  }

  it('shows reviewers the grants made to the same child in its other applications, whatever became of them; not the family', async () => {
    const w = await world();
    const first = await underReview(w);
    await post(`${first.id}/approve`, w.reviewer, { amount: 3_000_000 }).expect(200);
    await post(`${first.id}/cancel`, w.admin, { reason: 'The hospital treated him under another programme.' }).expect(200);
    const large = await underReview(w, { patient: { fullName: '王小明' } });
    await post(`${large.id}/approve`, w.reviewer, { amount: 6_000_000 }).expect(200); // a first approval alone is no grant
    const latest = await underReview(w);
    const assessmentOf = async (id: string, who: SignedIn) => (await t.http.get(`${API}/applications/${id}/assessment`).set(who.auth).expect(200)).body;
    const seen = await assessmentOf(latest.id, w.reviewer);
    expect(seen.earlierGrants).toEqual([{ reference: first.reference, status: 'cancelled', amount: 3_000_000, approvedAt: expect.any(String) }]);
    await post(`${large.id}/approve`, w.second, { amount: 6_000_000 }).expect(200);
    expect((await assessmentOf(latest.id, w.reviewer)).earlierGrants.map((g: { reference: string }) => g.reference)).toEqual([first.reference, large.reference]);
    expect((await assessmentOf(first.id, w.reviewer)).earlierGrants.map((g: { reference: string }) => g.reference)).toEqual([large.reference]);
    expect((await assessmentOf(latest.id, w.family)).earlierGrants).toBeUndefined();

    // A grant in a file the reviewer is barred from (a conflict with its hospital) is counted, not named.
    const uncle = await signedInUser(t, 'applicant');
    const elsewhere = await createHospital(t, w.admin);
    const uncles = await createSubmittedApplication(t, uncle, elsewhere.id, { guardian: { fullName: '王强', relationship: 'uncle' } });
    await post(`${uncles.id}/start-review`, w.second).expect(200);
    await post(`${uncles.id}/approve`, w.second, { amount: 1_000_000 }).expect(200);
    await t.http.post(`${API}/users/${w.reviewer.id}/conflicts`).set(w.admin.auth).send({ hospitalId: elsewhere.id }).expect(201);
    const grantsSeenBy = async (who: SignedIn) => (await assessmentOf(latest.id, who)).earlierGrants.map((g: { reference: string }) => g.reference);
    expect(await grantsSeenBy(w.second)).toEqual([first.reference, large.reference, uncles.reference]);
    expect(await grantsSeenBy(w.reviewer)).toEqual([first.reference, large.reference]);
    expect((await assessmentOf(latest.id, w.reviewer)).earlierGrantsWithheld).toBe(1);
    // A conflict with the uncle's family is one with the child: the reviewer may not decide any of its files.
    await t.http.post(`${API}/users/${w.reviewer.id}/conflicts`).set(w.admin.auth).send({ applicantId: uncle.id }).expect(201);
    expect((await t.http.get(`${API}/applications/${latest.id}/assessment`).set(w.reviewer.auth)).body.type).toBe(`${PROBLEM}conflict-of-interest`);
  });

  it('takes an application through review, a request for information and its answer, to an approval that commits funds and schedules tranches', async () => {
    const w = await world();
    const app = await createSubmittedApplication(t, w.family, w.hospital.id);

    const started = await post(`${app.id}/start-review`, w.reviewer);
    expect(started.status).toBe(200);
    expect(started.body).toEqual({ id: app.id, reference: app.reference, status: 'under_review', version: app.version + 1 });

    const asked = await post(`${app.id}/request-info`, w.reviewer, { message: '  请补充最近三个月的收入证明。  ' });
    expect(asked.status).toBe(200);
    expect(asked.body.status).toBe('info_requested');
    const infoMail = await t.mail.waitFor((m) => m.to.includes(w.family.email) && m.subject.includes('补充'));
    expect(infoMail.subject).toBe(`您的申请 ${app.reference} 需要补充一些信息`);
    // The email says a question is waiting, not what it says (it may quote medical detail); the family reads it in the app.
    expect(infoMail.text).not.toContain('收入证明');
    expect(infoMail.html).not.toContain('收入证明');
    expect(infoMail.text).toContain(`/applications/${app.id}`);
    const [outboxRow] = await t.dataSource.query(`SELECT context FROM notifications WHERE template = 'info-requested' AND to_email = $1`, [w.family.email]);
    expect(JSON.stringify(outboxRow.context)).not.toContain('收入证明');
    const questions = await t.http.get(`${API}/applications/${app.id}/info-requests`).set(w.family.auth).expect(200);
    expect(questions.body).toEqual({ items: [{ id: expect.any(String), message: '请补充最近三个月的收入证明。', requestedAt: expect.any(String), resubmittedAt: null }], nextCursor: null });
    const stranger = await signedInUser(t, 'applicant');
    expect((await t.http.get(`${API}/applications/${app.id}/info-requests`).set(stranger.auth)).status).toBe(404);
    expect((await t.http.get(`${API}/applications/${app.id}/info-requests`).set(w.finance.auth)).status).toBe(403);
    await t.http.get(`${API}/applications/${app.id}/info-requests`).set(w.reviewer.auth).expect(200);

    // The family answers: a lower income, a new document, the same name; then resubmits.
    await t.http.patch(`${API}/applications/${app.id}`).set(w.family.auth).send({ household: { annualIncome: 3_600_000 }, patient: { fullName: '王小明' } }).expect(200);
    const answer = await uploadDocument(t, w.family, app.id, 'poverty_certificate');
    expect(answer.status).toBe(201);
    // The answer is the family's until it is submitted: reviewers do not see it yet (withdrawn now, it would go with
    // the application, seen by nobody).
    const reviewersList = async () => ((await t.http.get(`${API}/applications/${app.id}/documents`).set(w.reviewer.auth).expect(200)).body.items as { id: string }[]).map((d) => d.id);
    expect(await reviewersList()).not.toContain(answer.body.id);
    await t.http.get(`${API}/applications/${app.id}/documents/${answer.body.id}/content`).set(w.reviewer.auth).expect(404);
    expect(((await t.http.get(`${API}/applications/${app.id}/documents`).set(w.family.auth).expect(200)).body.items as { id: string }[]).map((d) => d.id)).toContain(answer.body.id);
    const before = await t.http.get(`${API}/applications/${app.id}/changes`).set(w.reviewer.auth).expect(200);
    expect(before.body.rounds).toEqual([
      {
        id: expect.any(String),
        message: '请补充最近三个月的收入证明。',
        requestedBy: w.reviewer.id,
        requestedAt: expect.any(String),
        resubmittedAt: null,
        // The form as it stands (the application is one record), the documents as submitted: the new one not yet.
        changedFields: ['household.annualIncome'],
      },
    ]);
    const uploadsInHistory = async () =>
      ((await t.http.get(`${API}/applications/${app.id}/history?limit=100`).set(w.reviewer.auth).expect(200)).body.items as { action: string; summary: { documentId?: string } }[])
        .filter((e) => e.action === 'document.uploaded' && e.summary.documentId === answer.body.id).length;
    expect(await uploadsInHistory()).toBe(0);
    await post(`${app.id}/submit`, w.family).expect(200);
    expect(await reviewersList()).toContain(answer.body.id);
    expect(await uploadsInHistory()).toBe(1);
    await t.http.get(`${API}/applications/${app.id}/documents/${answer.body.id}/content`).set(w.reviewer.auth).expect(200);
    // The reviewer who asked hears that the family answered (the queue alone said so only days later, in the digest).
    const answeredMail = await t.mail.waitFor((m) => m.to.includes(w.reviewer.email) && m.subject.includes(app.reference));
    expect(answeredMail.subject).toBe(`Application ${app.reference} was submitted again after your question`);
    expect(answeredMail.text).toContain(`/applications/${app.id}`);
    expect(answeredMail.text).not.toContain('收入证明'); // the question itself stays in the app
    expect((await post(`${app.id}/start-review`, w.second)).status).toBe(200);
    const changes = await t.http.get(`${API}/applications/${app.id}/changes`).set(w.second.auth).expect(200);
    expect(changes.body.rounds[0].changedFields).toEqual(['documents.poverty_certificate', 'household.annualIncome']);
    expect(changes.body.rounds[0].resubmittedAt).toEqual(expect.any(String));
    expect((await t.http.get(`${API}/applications/${app.id}/changes`).set(w.family.auth)).status).toBe(403);
    const answered = await t.http.get(`${API}/applications/${app.id}/info-requests`).set(w.family.auth).expect(200);
    expect(answered.body.items[0].resubmittedAt).toBe(changes.body.rounds[0].resubmittedAt);

    const approved = await post(`${app.id}/approve`, w.reviewer, { amount: 4_000_000, comment: 'Below the recommendation: other aid expected.' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ id: app.id, status: 'approved', amount: 4_000_000, decisionId: expect.any(String) });
    expect(await fund(w)).toMatchObject({ received: 100_000_000, available: 96_000_000, committed: 4_000_000, disbursed: 0 });
    const tranches = (await t.dataSource.query(`SELECT reference, amount::int AS amount, status FROM disbursements WHERE application_id = $1 ORDER BY tranche_number`, [
      app.id,
    ])) as { reference: string; amount: number; status: string }[];
    expect(tranches.reduce((s, r) => s + r.amount, 0)).toBe(4_000_000);
    expect(tranches.every((r) => r.status === 'scheduled' && r.reference.startsWith(`${app.reference}-`))).toBe(true);

    const decisions = await t.http.get(`${API}/applications/${app.id}/decisions`).set(w.finance.auth).expect(200);
    expect(decisions.body.nextCursor).toBeNull();
    expect(decisions.body.items).toEqual([
      {
        id: approved.body.decisionId,
        kind: 'approval',
        reviewerId: w.reviewer.id,
        reviewerRole: 'reviewer',
        fromStatus: 'under_review',
        toStatus: 'approved',
        amount: 4_000_000,
        // Written by someone who read the household and medical sections fund finance may not see (VISIBILITY).
        comment: null,
        reason: null,
        decidedAt: expect.any(String),
      },
    ]);
    const forReviewers = await t.http.get(`${API}/applications/${app.id}/decisions`).set(w.second.auth).expect(200);
    expect(forReviewers.body.items[0]).toMatchObject({ id: approved.body.decisionId, comment: 'Below the recommendation: other aid expected.' });
    // The family reads the decision on its own case: the amount and the role, not who decided nor the note for the record.
    const forFamily = await t.http.get(`${API}/applications/${app.id}/decisions`).set(w.family.auth).expect(200);
    const { reviewerId: _who, ...asFamilyReads } = decisions.body.items[0];
    expect(forFamily.body.items).toEqual([{ ...asFamilyReads, comment: null }]);
    const otherFamily = await signedInUser(t, 'applicant');
    expect((await t.http.get(`${API}/applications/${app.id}/decisions`).set(otherFamily.auth)).status).toBe(404);

    // One email per event, in the family's language.
    const mail = await settledMail(w.family.email);
    expect(mail.map((m) => m.subject).sort()).toEqual(
      [
        `我们已收到您的申请 ${app.reference}`,
        `您的申请 ${app.reference} 需要补充一些信息`,
        `我们已收到您对申请 ${app.reference} 的补充回复`,
        `好消息：您的申请 ${app.reference} 已获批准`,
      ].sort(),
    );
    expect(mail.find((m) => m.subject.startsWith('好消息'))!.text).toContain('¥40,000.00');

    expect(await auditActions(app.id)).toEqual([
      'application.created',
      'document.uploaded',
      'document.uploaded',
      'document.uploaded',
      'document.uploaded',
      'document.uploaded',
      'application.submitted',
      'application.review_started',
      'application.info_requested',
      'application.updated',
      'document.uploaded',
      'application.submitted',
      'document.downloaded',
      'application.review_started',
      'fund.committed',
      'application.approved',
    ]);
  });

  it('approves under the policy the reviewer read: its cap and its tranche split, named in the audit event, though a new policy came meanwhile', async () => {
    const w = await world();
    const app = await underReview(w); // assessed under version 1: hsct cap ¥100,000, one tranche
    const v2 = structuredClone(DEFAULT_MEANS_POLICY);
    v2.caps.hsct = 5_000_000;
    v2.tranches.hsct = [{ label: 'admission', share: '0.5' }, { label: 'after', share: '0.5' }];
    await t.http.put(`${API}/policies/means-assessment`).set(w.admin.auth).send(v2).expect(200);

    expect((await post(`${app.id}/approve`, w.reviewer, { amount: 8_000_000 }).expect(200)).body.status).toBe('awaiting_second_approval');
    expect((await post(`${app.id}/approve`, w.second, { amount: 8_000_000 }).expect(200)).body.status).toBe('approved');
    const tranches = (await t.http.get(`${API}/applications/${app.id}/disbursements`).set(w.finance.auth).expect(200)).body.items;
    expect(tranches.map((d: { amount: number }) => d.amount)).toEqual([8_000_000]);
    const events = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action IN ('application.first_approval', 'application.approved') ORDER BY id`, [app.id]);
    expect(events.map((e: { summary: { policyVersion: number } }) => e.summary.policyVersion)).toEqual([1, 1]);
  });

  it("writes no email to a disabled family's account (the question, the rejection, the approval): the worker would only mark it dead", async () => {
    const w = await world();
    const underReviewOf = async () => {
      const family = await signedInUser(t, 'applicant');
      const app = await createSubmittedApplication(t, family, w.hospital.id);
      await post(`${app.id}/start-review`, w.reviewer).expect(200);
      await t.http.patch(`${API}/users/${family.id}`).set(w.admin.auth).send({ disabled: true }).expect(200);
      return app;
    };
    const [asked, rejected, approved] = [await underReviewOf(), await underReviewOf(), await underReviewOf()];
    await post(`${asked.id}/request-info`, w.reviewer, { message: 'Please add the latest bill.' }).expect(200);
    await post(`${rejected.id}/reject`, w.reviewer, { reason: 'Outside the programme.' }).expect(200);
    await post(`${approved.id}/approve`, w.reviewer, { amount: 1_000_000 }).expect(200);
    const emails = await t.dataSource.query(`SELECT template FROM notifications WHERE template IN ('info-requested', 'application-rejected', 'application-approved')`);
    expect(emails).toEqual([]);
    expect((await status(approved.id)).status).toBe('approved');
  });

  it("tells no one of the family's answer whose account is disabled or whose conflict of interest now bars them from the case", async () => {
    const w = await world(0);
    const ask = async (asker: SignedIn) => {
      const family = await signedInUser(t, 'applicant');
      const app = await createSubmittedApplication(t, family, w.hospital.id);
      await post(`${app.id}/start-review`, asker).expect(200);
      await post(`${app.id}/request-info`, asker, { message: 'Please add the latest bill.' }).expect(200);
      return { app, family };
    };
    const disabledLater = await ask(w.reviewer);
    const conflictedLater = await ask(w.second);
    const askedByAdmin = await ask(w.admin);
    await t.http.patch(`${API}/users/${w.reviewer.id}`).set(w.admin.auth).send({ disabled: true }).expect(200);
    await t.http.post(`${API}/users/${w.second.id}/conflicts`).set(w.admin.auth).send({ applicantId: conflictedLater.family.id }).expect(201);
    for (const { app, family } of [disabledLater, conflictedLater, askedByAdmin]) await post(`${app.id}/submit`, family).expect(200);
    const answered = (await t.dataSource.query(`SELECT to_email, context->>'reference' AS reference FROM notifications WHERE template = 'info-answered'`)) as object[];
    expect(answered).toEqual([{ to_email: w.admin.email, reference: askedByAdmin.app.reference }]);
    // The family hears that its answers reached the fund, not that its application did, once more.
    const toFamily = await t.mail.waitFor((m) => m.to.includes(askedByAdmin.family.email) && m.subject.includes('answers'));
    expect(toFamily.subject).toBe(`We have received your answers for application ${askedByAdmin.app.reference}`);
    expect(toFamily.text).toContain('The reviewer goes on with it now.');
  });

  it('serves the history oldest first, scoped to the family and staff, paginated, without sensitive values', async () => {
    const w = await world();
    const app = await underReview(w);
    await post(`${app.id}/request-info`, w.reviewer, { message: '请说明诊断 D61.9 的治疗计划' }).expect(200);
    const other = await signedInUser(t, 'applicant');
    const hospitalFinance = await signedInUser(t, 'hospital_finance', { hospitalId: w.hospital.id });

    const staff = await t.http.get(`${API}/applications/${app.id}/history`).query({ limit: 100 }).set(w.reviewer.auth).expect(200);
    const actions = staff.body.items.map((e: { action: string }) => e.action);
    expect(actions.slice(-3)).toEqual(['application.submitted', 'application.review_started', 'application.info_requested']);
    expect(staff.body.items.at(-1)).toMatchObject({ actorRole: 'reviewer', actorId: w.reviewer.id, summary: { from: 'under_review', to: 'info_requested' } });
    const ids = staff.body.items.map((e: { id: string }) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(staff.body.nextCursor).toBeNull();

    const own = await t.http.get(`${API}/applications/${app.id}/history`).set(w.family.auth).expect(200);
    expect(own.body.items).toHaveLength(actions.length);
    // The id as typed in capitals is the same application, with the same history.
    const upper = await t.http.get(`${API}/applications/${app.id.toUpperCase()}/history`).set(w.family.auth).expect(200);
    expect(upper.body.items).toEqual(own.body.items);
    expect(own.body.items.every((e: object) => !('actorId' in e))).toBe(true);
    const text = JSON.stringify(own.body);
    for (const secret of ['310101', 'D61.9', '诊断', '王小明', 'nationalId":"']) expect(text).not.toContain(secret);

    // Keyset pages of 2 give the same events in the same order.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { action: string }[]; nextCursor: string | null } } = await t.http
        .get(`${API}/applications/${app.id}/history`)
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(w.family.auth)
        .expect(200);
      paged.push(...page.body.items.map((e) => e.action));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual(actions);

    expect((await t.http.get(`${API}/applications/${app.id}/history`).set(other.auth)).status).toBe(404);
    expect((await t.http.get(`${API}/applications/${randomUUID()}/history`).set(w.reviewer.auth)).status).toBe(404);
    expect((await t.http.get(`${API}/applications/${app.id}/history`).set(hospitalFinance.auth)).status).toBe(403);
    expect((await t.http.get(`${API}/applications/${app.id}/history`).query({ cursor: 'nonsense' }).set(w.family.auth)).status).toBe(400);
  });

  describe('four-eyes', () => {
    it('sends an approval at the threshold to a second reviewer, who must be another person confirming the same amount', async () => {
      const w = await world();
      const app = await underReview(w);

      const first = await post(`${app.id}/approve`, w.reviewer, { amount: 5_000_000 });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ status: 'awaiting_second_approval', amount: 5_000_000 });
      // The first approval reserves the money: other approvals cannot spend it while the second reviewer looks.
      expect(await fund(w)).toMatchObject({ available: 95_000_000, committed: 5_000_000 });

      const again = await post(`${app.id}/approve`, w.reviewer, { amount: 5_000_000 });
      expect(again.status).toBe(409);
      expect(again.body.type).toBe(`${PROBLEM}four-eyes-same-reviewer`);
      const otherAmount = await post(`${app.id}/approve`, w.second, { amount: 4_999_900 });
      expect(otherAmount.status).toBe(409);
      expect(otherAmount.body.type).toBe(`${PROBLEM}four-eyes-amount-mismatch`);
      expect(await status(app.id)).toEqual({ status: 'awaiting_second_approval', version: app.version + 2 });
      expect(t.mail.to(w.family.email).some((m) => m.subject.includes('批准'))).toBe(false);

      const confirmed = await post(`${app.id}/approve`, w.second, { amount: 5_000_000 });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.status).toBe('approved');
      expect(await fund(w)).toMatchObject({ available: 95_000_000, committed: 5_000_000 }); // committed once, not twice

      const decisions = await t.http.get(`${API}/applications/${app.id}/decisions`).set(w.reviewer.auth).expect(200);
      expect(decisions.body.items.map((d: { kind: string; reviewerId: string; amount: number }) => [d.kind, d.reviewerId, d.amount])).toEqual([
        ['first_approval', w.reviewer.id, 5_000_000],
        ['second_approval', w.second.id, 5_000_000],
      ]);
      const approvedMail = (await settledMail(w.family.email)).filter((m) => m.subject.includes('批准'));
      expect(approvedMail).toHaveLength(1);
      expect(approvedMail[0].text).toContain('¥50,000.00');
      expect(await auditActions(app.id)).toEqual(expect.arrayContaining(['fund.committed', 'application.first_approval', 'application.approved']));
    });

    it('refuses a second approval between an admin and an account that admin created or gave its role (one person could hold both)', async () => {
      const w = await world();
      // An admin creates a reviewer with a password of its own choosing, and could sign in as it.
      const made = { email: `made-${randomUUID().slice(0, 8)}@example.org`, fullName: 'Made Reviewer', role: 'reviewer', password: 'a password the admin knows' };
      await t.http.post(`${API}/users`).set(w.admin.auth).send(made).expect(201);
      const puppet = { ...(await login(t, made.email, made.password)) };
      // And gives fund finance's account a reviewing role.
      await t.http.patch(`${API}/users/${w.finance.id}`).set(w.admin.auth).send({ role: 'reviewer' }).expect(200);
      const promoted = await login(t, w.finance.email);

      const byAdmin = await underReview(w);
      await post(`${byAdmin.id}/approve`, w.admin, { amount: 8_000_000 }).expect(200);
      for (const who of [puppet, promoted]) {
        const res = await post(`${byAdmin.id}/approve`, who as SignedIn, { amount: 8_000_000 });
        expect([res.status, res.body.type]).toEqual([409, `${PROBLEM}four-eyes-linked-reviewer`]);
      }
      // Either way round; an independent reviewer confirms.
      const byPuppet = await underReview(w, { patient: { nationalId: OTHER_PATIENT_NATIONAL_ID } });
      await post(`${byPuppet.id}/approve`, puppet as SignedIn, { amount: 8_000_000 }).expect(200);
      const res = await post(`${byPuppet.id}/approve`, w.admin, { amount: 8_000_000 });
      expect([res.status, res.body.type]).toEqual([409, `${PROBLEM}four-eyes-linked-reviewer`]);
      expect((await post(`${byAdmin.id}/approve`, w.second, { amount: 8_000_000 })).body.status).toBe('approved');
      expect(await status(byPuppet.id)).toMatchObject({ status: 'awaiting_second_approval' });
    });

    it('refuses a second approval between two accounts whose passwords one admin set, until one of them sets its own', async () => {
      const w = await world();
      const made = async (name: string) => {
        const body = { email: `${name}-${randomUUID().slice(0, 8)}@example.org`, fullName: name, role: 'reviewer', password: 'a password the admin knows' };
        const created = await t.http.post(`${API}/users`).set(w.admin.auth).send(body).expect(201);
        return { ...(await login(t, body.email, body.password)), id: created.body.id as string, role: 'reviewer' as const };
      };
      const [one, two] = [await made('one'), await made('two')];
      const app = await createSubmittedApplication(t, w.family, w.hospital.id);
      await post(`${app.id}/start-review`, one).expect(200);
      await post(`${app.id}/approve`, one, { amount: 8_000_000 }).expect(200);
      const refused = await post(`${app.id}/approve`, two, { amount: 8_000_000 });
      expect([refused.status, refused.body.type]).toEqual([409, `${PROBLEM}four-eyes-linked-reviewer`]);
      expect(refused.body.detail).toMatch(/password the same administrator set/);

      // `two` sets a password of its own (a reset by email): the admin no longer holds both.
      await t.http.post(`${API}/auth/forgot-password`).send({ email: two.email }).expect(202);
      const mail = await t.mail.waitForMailTo(two.email);
      const token = /token=([A-Za-z0-9_-]{20,})/.exec(mail.text)![1];
      await t.http.post(`${API}/auth/reset-password`).send({ token, password: 'a passphrase of my own' }).expect(200);
      const again = await login(t, two.email, 'a passphrase of my own');
      expect((await post(`${app.id}/approve`, { ...two, ...again }, { amount: 8_000_000 })).body.status).toBe('approved');
    });

    it('approves just below the threshold with one reviewer', async () => {
      const w = await world();
      const app = await underReview(w);
      const res = await post(`${app.id}/approve`, w.reviewer, { amount: 4_999_999 });
      expect(res.body.status).toBe('approved');
    });

    it('lets the database refuse a second approval by the first approver even past the service', async () => {
      const w = await world();
      const app = await underReview(w);
      await post(`${app.id}/approve`, w.reviewer, { amount: 6_000_000 }).expect(200);
      const insert = (reviewerId: string, amount: number) =>
        t.dataSource.query(
          `INSERT INTO decisions (application_id, kind, reviewer_id, reviewer_role, from_status, to_status, amount) VALUES ($1, 'second_approval', $2, 'reviewer', 'awaiting_second_approval', 'approved', $3)`,
          [app.id, reviewerId, amount],
        );
      await expect(insert(w.reviewer.id, 6_000_000)).rejects.toThrow(/four-eyes/);
      await expect(insert(w.second.id, 6_000_001)).rejects.toThrow(/four-eyes/);
      await expect(t.dataSource.query(`UPDATE decisions SET amount = 1 WHERE application_id = $1`, [app.id])).rejects.toThrow(/append-only/);
      await expect(t.dataSource.query(`DELETE FROM decisions WHERE application_id = $1`, [app.id])).rejects.toThrow(/append-only/);
    });

    it('releases the reservation when the second reviewer rejects instead, and tells the family the reason', async () => {
      const w = await world();
      const app = await underReview(w);
      await post(`${app.id}/approve`, w.reviewer, { amount: 8_000_000 }).expect(200);
      const rejected = await post(`${app.id}/reject`, w.second, { reason: '家庭已获得其他救助，费用已覆盖。' });
      expect(rejected.status).toBe(200);
      expect(rejected.body).toMatchObject({ status: 'rejected', decisionId: expect.any(String) });
      expect(await fund(w)).toMatchObject({ received: 100_000_000, available: 100_000_000, committed: 0 });
      const mail = (await settledMail(w.family.email)).filter((m) => m.subject.startsWith('关于您的申请'));
      expect(mail).toHaveLength(1);
      expect(mail[0].text).toContain('家庭已获得其他救助，费用已覆盖。');

      // Staff read the deliberation; the refused family reads the refusal, not that a reviewer had approved ¥80,000.
      const decisions = async (who: { auth: Record<string, string> }) =>
        (await t.http.get(`${API}/applications/${app.id}/decisions`).set(who.auth).expect(200)).body.items.map((d: { kind: string }) => d.kind);
      expect(await decisions(w.reviewer)).toEqual(['first_approval', 'rejection']);
      expect(await decisions(w.family)).toEqual(['rejection']);
      const history = async (who: { auth: Record<string, string> }) =>
        (await t.http.get(`${API}/applications/${app.id}/history`).query({ limit: 100 }).set(who.auth).expect(200)).body.items as {
          action: string;
          summary: Record<string, unknown>;
        }[];
      const staffHistory = await history(w.reviewer);
      expect(staffHistory.map((e) => e.action)).toEqual(expect.arrayContaining(['application.first_approval', 'fund.committed', 'fund.commitment_released']));
      expect(staffHistory.find((e) => e.action === 'application.rejected')!.summary.released).toBe(8_000_000);
      const familyHistory = await history(w.family);
      expect(familyHistory.map((e) => e.action)).toEqual(
        staffHistory.map((e) => e.action).filter((a) => a !== 'application.first_approval' && !a.startsWith('fund.')),
      );
      expect(familyHistory.at(-1)).toMatchObject({ action: 'application.rejected', summary: { from: 'awaiting_second_approval', to: 'rejected' } });
      expect(JSON.stringify(familyHistory)).not.toContain('8000000');
      const verify = await t.http.get(`${API}/fund/ledger/verify`).set(w.admin.auth).expect(200);
      expect(verify.body.ok).toBe(true);
      expect((await t.dataSource.query(`SELECT count(*)::int AS n FROM disbursements WHERE application_id = $1`, [app.id]))[0].n).toBe(0);
    });
  });

  it('rejects from review with a reason and emails it in English to an English-speaking family', async () => {
    const w = await world();
    const family = await signedInUser(t, 'applicant', { locale: 'en' });
    const app = await createSubmittedApplication(t, family, w.hospital.id);
    await post(`${app.id}/start-review`, w.reviewer).expect(200);
    const res = await post(`${app.id}/reject`, w.reviewer, { reason: 'The treatment is fully covered by medical assistance.' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('rejected');
    // Emails are sent concurrently, so the receipt and the rejection may arrive in either order.
    const mail = await settledMail(family.email);
    expect(mail.map((m) => m.subject).sort()).toEqual([`About your application ${app.reference}`, `We have received your application ${app.reference}`]);
    expect(mail.find((m) => m.subject.startsWith('About'))!.text).toContain('The treatment is fully covered by medical assistance.');
    expect(await fund(w)).toMatchObject({ available: 100_000_000, committed: 0 });
    // The reason stays readable in the app after the email (whose content retention empties).
    const decisions = await t.http.get(`${API}/applications/${app.id}/decisions`).set(family.auth).expect(200);
    expect(decisions.body.items).toEqual([
      expect.objectContaining({ kind: 'rejection', reviewerRole: 'reviewer', reason: 'The treatment is fully covered by medical assistance.', comment: null }),
    ]);
    expect(decisions.body.items[0]).not.toHaveProperty('reviewerId');
  });

  it('no commit, no email: a rejection that fails at COMMIT (after its email row was written) sends nothing and changes nothing', async () => {
    const w = await world();
    const family = await signedInUser(t, 'applicant', { locale: 'en' });
    const app = await createSubmittedApplication(t, family, w.hospital.id);
    await post(`${app.id}/start-review`, w.reviewer).expect(200);
    const before = await status(app.id);
    // A check deferred to COMMIT that refuses the decision: the route has written its status, decision, audit event
    // and email row by then, and all of it must go with the rollback.
    await t.dataSource.query(`CREATE FUNCTION test_refuse_decision() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused at commit by the test'; END $$`);
    await t.dataSource.query(`CREATE CONSTRAINT TRIGGER test_refuse_decision AFTER INSERT ON decisions DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION test_refuse_decision()`);
    try {
      const res = await post(`${app.id}/reject`, w.reviewer, { reason: 'Covered by medical assistance.' });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    } finally {
      await t.dataSource.query(`DROP TRIGGER IF EXISTS test_refuse_decision ON decisions`);
      await t.dataSource.query(`DROP FUNCTION IF EXISTS test_refuse_decision()`);
    }
    expect(await status(app.id)).toEqual(before);
    const [{ rows }] = await t.dataSource.query(
      `SELECT (SELECT count(*) FROM notifications WHERE template = 'application-rejected')::int
            + (SELECT count(*) FROM decisions WHERE application_id = $1)::int
            + (SELECT count(*) FROM audit_events WHERE object_id = $2 AND action = 'application.rejected')::int AS rows`,
      [app.id, app.id],
    );
    expect(rows).toBe(0);
    // The same rejection, once nothing refuses it, is emailed: a later email bounds the wait for one that never comes.
    await post(`${app.id}/reject`, w.reviewer, { reason: 'Covered by medical assistance.' }).expect(200);
    const mail = await settledMail(family.email);
    expect(mail.filter((m) => m.subject.startsWith('About'))).toHaveLength(1);
  });

  it('replays an approval and a rejection sent again with the same Idempotency-Key, moving the money once', async () => {
    const w = await world();
    const app = await underReview(w);
    const keyed = (path: string, key: string, body: object) => t.http.post(`${API}/applications/${path}`).set(w.reviewer.auth).set('Idempotency-Key', key).send(body);
    const first = await keyed(`${app.id}/approve`, 'approve-1', { amount: 3_000_000 });
    expect(first.status).toBe(200);
    // The response was lost; the client sends the same request again.
    const again = await keyed(`${app.id}/approve`, 'approve-1', { amount: 3_000_000 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((await keyed(`${app.id}/approve`, 'approve-1', { amount: 2_000_000 })).status).toBe(422);
    expect(await fund(w)).toMatchObject({ available: 97_000_000, committed: 3_000_000 });
    const [{ n }] = (await t.dataSource.query(`SELECT count(*)::int AS n FROM decisions WHERE application_id = $1`, [app.id])) as { n: number }[];
    expect(n).toBe(1);
    // Without the key the same request is a second approval, refused as before.
    expect((await post(`${app.id}/approve`, w.reviewer, { amount: 3_000_000 })).status).toBe(409);

    // A rejection that releases a first approval's reservation, replayed: released once.
    const large = await underReview(w);
    await post(`${large.id}/approve`, w.reviewer, { amount: 6_000_000 }).expect(200);
    expect(await fund(w)).toMatchObject({ available: 91_000_000, committed: 9_000_000 });
    const rejected = await t.http.post(`${API}/applications/${large.id}/reject`).set(w.second.auth).set('Idempotency-Key', 'reject-1').send({ reason: 'Covered elsewhere.' });
    expect(rejected.status).toBe(200);
    const replayed = await t.http.post(`${API}/applications/${large.id}/reject`).set(w.second.auth).set('Idempotency-Key', 'reject-1').send({ reason: 'Covered elsewhere.' });
    expect([replayed.status, replayed.body, replayed.headers['idempotent-replayed']]).toEqual([200, rejected.body, 'true']);
    // The same request with the id in capitals is the same request: replayed, not 422 idempotency-key-reused.
    const shouted = await t.http.post(`${API}/applications/${large.id.toUpperCase()}/reject`).set(w.second.auth).set('Idempotency-Key', 'reject-1').send({ reason: 'Covered elsewhere.' });
    expect([shouted.status, shouted.body, shouted.headers['idempotent-replayed']]).toEqual([200, rejected.body, 'true']);
    expect(await fund(w)).toMatchObject({ available: 97_000_000, committed: 3_000_000 });
    expect((await auditActions(large.id)).filter((a) => a === 'application.rejected')).toHaveLength(1);
  });

  describe('refusals', () => {
    it('refuses roles other than reviewer and admin (403), and lets an admin review', async () => {
      const w = await world();
      const app = await createSubmittedApplication(t, w.family, w.hospital.id);
      const hospitalFinance = await signedInUser(t, 'hospital_finance', { hospitalId: w.hospital.id });
      const bodies: Record<string, object> = { 'start-review': {}, 'request-info': { message: 'm' }, approve: { amount: 100 }, reject: { reason: 'r' } };
      for (const who of [w.family, w.finance, hospitalFinance]) {
        for (const [action, body] of Object.entries(bodies)) {
          const res = await post(`${app.id}/${action}`, who, body);
          expect([action, who.role, res.status]).toEqual([action, who.role, 403]);
        }
      }
      expect((await t.http.post(`${API}/applications/${app.id}/start-review`).send({})).status).toBe(401);
      expect(await status(app.id)).toEqual({ status: 'submitted', version: app.version });
      expect((await post(`${app.id}/start-review`, w.admin)).body.status).toBe('under_review');
      expect((await post(`${app.id}/approve`, w.admin, { amount: 100_000 })).body.status).toBe('approved');
    });

    it('refuses every action the table does not allow from the current status with 409 naming it', async () => {
      const w = await world();
      const expectRefused = async (id: string, action: string, body: object, current: string) => {
        const res = await post(`${id}/${action}`, w.reviewer, body);
        expect([action, current, res.status, res.body.type, res.body.currentStatus]).toEqual([action, current, 409, `${PROBLEM}invalid-status-transition`, current]);
        expect(res.body.detail).toContain(current);
      };
      const submitted = await createSubmittedApplication(t, w.family, w.hospital.id);
      await expectRefused(submitted.id, 'request-info', { message: 'm' }, 'submitted');
      await expectRefused(submitted.id, 'approve', { amount: 100 }, 'submitted');
      await expectRefused(submitted.id, 'reject', { reason: 'r' }, 'submitted');

      const reviewing = await underReview(w);
      await expectRefused(reviewing.id, 'start-review', {}, 'under_review');

      await post(`${reviewing.id}/request-info`, w.reviewer, { message: 'm' }).expect(200);
      for (const [action, body] of [['start-review', {}], ['request-info', { message: 'm' }], ['approve', { amount: 100 }], ['reject', { reason: 'r' }]] as const) {
        await expectRefused(reviewing.id, action, body, 'info_requested');
      }

      const waiting = await underReview(w);
      await post(`${waiting.id}/approve`, w.reviewer, { amount: 5_000_000 }).expect(200);
      await expectRefused(waiting.id, 'start-review', {}, 'awaiting_second_approval');
      await expectRefused(waiting.id, 'request-info', { message: 'm' }, 'awaiting_second_approval');

      const approved = await underReview(w);
      await post(`${approved.id}/approve`, w.reviewer, { amount: 100 }).expect(200);
      for (const [action, body] of [['start-review', {}], ['request-info', { message: 'm' }], ['approve', { amount: 100 }], ['reject', { reason: 'r' }]] as const) {
        await expectRefused(approved.id, action, body, 'approved');
      }
      const rejected = await underReview(w);
      await post(`${rejected.id}/reject`, w.reviewer, { reason: 'r' }).expect(200);
      await expectRefused(rejected.id, 'approve', { amount: 100 }, 'rejected');
      await expectRefused(rejected.id, 'reject', { reason: 'r' }, 'rejected');

      const withdrawn = await createSubmittedApplication(t, w.family, w.hospital.id);
      await post(`${withdrawn.id}/withdraw`, w.family).expect(200);
      await expectRefused(withdrawn.id, 'start-review', {}, 'withdrawn');

      // Under review, or awaiting the second approval, the family can neither withdraw nor edit.
      const inReview = await underReview(w);
      for (const app of [inReview, waiting]) {
        const withdraw = await post(`${app.id}/withdraw`, w.family);
        const edit = await t.http.patch(`${API}/applications/${app.id}`).set(w.family.auth).send({ household: { annualIncome: 1 } });
        for (const res of [withdraw, edit]) expect([res.status, res.body.type]).toEqual([409, `${PROBLEM}invalid-status-transition`]);
      }
      expect((await status(inReview.id)).status).toBe('under_review');

      // A draft is not the reviewers' to see; a stale If-Match is refused.
      const draft = await t.http.post(`${API}/applications`).set(w.family.auth).send({ hospitalId: w.hospital.id }).expect(201);
      expect((await post(`${draft.body.id}/start-review`, w.reviewer)).status).toBe(404);
      const fresh = await createSubmittedApplication(t, w.family, w.hospital.id);
      const stale = await t.http.post(`${API}/applications/${fresh.id}/start-review`).set({ ...w.reviewer.auth, 'If-Match': `"${fresh.version - 1}"` }).send({});
      expect(stale.status).toBe(409);
      expect(stale.body.type).toBe(`${PROBLEM}version-conflict`);
      const current = await t.http.post(`${API}/applications/${fresh.id}/start-review`).set({ ...w.reviewer.auth, 'If-Match': `"${fresh.version}"` }).send({});
      expect(current.status).toBe(200);
      expect((await post(`${randomUUID()}/start-review`, w.reviewer)).status).toBe(404);
    });

    it('requires a message, a reason and a valid amount within the policy cap (400), changing nothing', async () => {
      const w = await world();
      const app = await underReview(w, { medical: { treatmentPlan: 'ist' } }); // cap ¥50,000
      const cases: [string, object, string][] = [
        ['request-info', {}, 'message'],
        ['request-info', { message: '   ' }, 'message'],
        ['request-info', { message: 42 }, 'message'],
        ['request-info', { message: 'x'.repeat(2001) }, 'message'],
        ['request-info', { message: 'ok', extra: true }, 'extra'],
        ['reject', {}, 'reason'],
        ['reject', { reason: '' }, 'reason'],
        ['reject', { reason: 'bell\u0007' }, 'reason'],
        // Nothing a family could read: invisible characters alone, or a C1 control (NEL), are no reason.
        ['reject', { reason: '\u200b\u200e' }, 'reason'],
        ['reject', { reason: 'why\u0085' }, 'reason'],
        ['request-info', { message: '\u0085' }, 'message'],
        ['request-info', { message: '\u3164 \ufeff' }, 'message'],
        ['request-info', { message: '...' }, 'message'],
        ['approve', {}, 'amount'],
        ['approve', { amount: 0 }, 'amount'],
        ['approve', { amount: -100 }, 'amount'],
        ['approve', { amount: 100.5 }, 'amount'],
        ['approve', { amount: '100000' }, 'amount'],
        ['approve', { amount: 1_000_000_000_001 }, 'amount'],
        ['approve', { amount: 5_000_001 }, 'amount'],
        ['approve', { amount: 100, comment: 'bell\u0007' }, 'comment'],
        ['approve', { amount: 100, comment: '\u202e--' }, 'comment'],
        ['approve', { amount: 100, comment: 'x'.repeat(2001) }, 'comment'],
        ['approve', { amount: 100, status: 'approved' }, 'status'],
      ];
      for (const [action, body, field] of cases) {
        const res = await post(`${app.id}/${action}`, w.reviewer, body);
        expect([action, JSON.stringify(body).slice(0, 40), res.status]).toEqual([action, JSON.stringify(body).slice(0, 40), 400]);
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
        // Left out, it is required, once: not every check its value would have failed ("must be shorter than 2000 …").
        if (Object.keys(body).length === 0) expect(res.body.errors).toEqual([{ field, message: 'is required' }]);
      }
      expect(await status(app.id)).toEqual({ status: 'under_review', version: app.version + 1 });
      expect(await fund(w)).toMatchObject({ available: 100_000_000, committed: 0 });
      // The cap itself is fine, and a note left blank in the form is no note.
      expect((await post(`${app.id}/approve`, w.reviewer, { amount: 5_000_000, comment: '  ' })).body.status).toBe('awaiting_second_approval');
      expect(await t.dataSource.query(`SELECT comment FROM decisions WHERE application_id = $1`, [app.id])).toEqual([{ comment: null }]);
    });

    it('refuses an approval the fund cannot cover with 409 insufficient-funds, changing nothing', async () => {
      const w = await world(3_000_000);
      const app = await underReview(w);
      const versionBefore = (await status(app.id)).version;
      const auditBefore = await auditActions(app.id);
      for (const amount of [3_000_001, 6_000_000]) {
        const res = await post(`${app.id}/approve`, w.reviewer, { amount });
        expect(res.status).toBe(409);
        expect(res.body).toMatchObject({ type: `${PROBLEM}insufficient-funds`, requested: amount, available: 3_000_000 });
      }
      expect(await status(app.id)).toEqual({ status: 'under_review', version: versionBefore });
      expect(await fund(w)).toMatchObject({ received: 3_000_000, available: 3_000_000, committed: 0 });
      expect(await auditActions(app.id)).toEqual(auditBefore);
      expect((await t.dataSource.query(`SELECT count(*)::int AS n FROM decisions`))[0].n).toBe(0);
      expect((await t.dataSource.query(`SELECT count(*)::int AS n FROM disbursements`))[0].n).toBe(0);
      expect((await settledMail(w.family.email)).filter((m) => m.subject.includes('批准'))).toHaveLength(0);
      expect((await post(`${app.id}/approve`, w.reviewer, { amount: 3_000_000 })).body.status).toBe('approved');
      expect(await fund(w)).toMatchObject({ available: 0, committed: 3_000_000 });
    });
  });

  it('refuses at the fund lock too: an approval that passed the quick balance check rolls back entirely when another commitment wins', async () => {
    const w = await world(3_000_000);
    const app = await underReview(w);
    const versionBefore = (await status(app.id)).version;
    // Another approval's transaction, at its COMMIT, holds the fund's lock and takes ¥20,000 of the ¥30,000 (held
    // here by locking the accounts as the database does at COMMIT, so that the approval queues behind it).
    const runner = t.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query(`SELECT 1 FROM ledger_accounts ORDER BY code FOR UPDATE`);
    await t.app.get(FundLedgerService).commitForApproval(runner.manager, { applicationId: randomUUID(), amount: 2_000_000, actor: { id: w.second.id, role: 'reviewer' } });
    const [{ pid: runnerPid }] = (await runner.query(`SELECT pg_backend_pid() AS pid`)) as { pid: number }[];
    const pending = post(`${app.id}/approve`, w.reviewer, { amount: 2_000_000 }).then((r) => r);
    const deadline = Date.now() + 10_000;
    for (;;) {
      // The approval's own fund lock is taken at its COMMIT: a COMMIT of this database blocked by the runner (another
      // jest worker's database, in the same cluster, has COMMITs waiting on locks of its own).
      const [{ n }] = (await t.dataSource.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND query = 'COMMIT' AND pg_blocking_pids(pid) @> ARRAY[$1::int]`,
        [runnerPid],
      )) as { n: number }[];
      if (n > 0) break;
      if (Date.now() > deadline) throw new Error('the approval never reached the fund lock');
      await new Promise((r) => setTimeout(r, 20));
    }
    await runner.commitTransaction();
    await runner.release();
    const res = await pending;
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ type: `${PROBLEM}insufficient-funds`, requested: 2_000_000, available: 1_000_000 });
    expect(await status(app.id)).toEqual({ status: 'under_review', version: versionBefore });
    const [counts] = (await t.dataSource.query(`
      SELECT (SELECT count(*) FROM decisions)::int AS decisions, (SELECT count(*) FROM disbursements)::int AS tranches,
             (SELECT count(*) FROM notifications WHERE template = 'application-approved')::int AS emails,
             (SELECT count(*) FROM audit_events WHERE action = 'application.approved')::int AS audited`)) as object[];
    expect(counts).toEqual({ decisions: 0, tranches: 0, emails: 0, audited: 0 });
    expect(await fund(w)).toMatchObject({ available: 1_000_000, committed: 2_000_000 });
  });

  describe('conflict of interest', () => {
    it('keeps a reviewer linked to the family, or working for the hospital, from every review action (403 conflict-of-interest)', async () => {
      const w = await world();
      const app = await createSubmittedApplication(t, w.family, w.hospital.id);
      const linked = await t.http.post(`${API}/users/${w.reviewer.id}/conflicts`).set(w.admin.auth).send({ applicantId: w.family.id });
      expect(linked.status).toBe(201);
      expect(linked.body).toEqual({
        id: expect.any(String),
        reviewerId: w.reviewer.id,
        applicantId: w.family.id,
        hospitalId: null,
        createdBy: w.admin.id,
        createdAt: expect.any(String),
      });
      const hospitalConflict = await t.http.post(`${API}/users/${w.second.id}/conflicts`).set(w.admin.auth).send({ hospitalId: w.hospital.id }).expect(201);
      // A user linked to themselves, the id written in capitals in the path: 400 naming the field, not a 500.
      const self = await t.http.post(`${API}/users/${w.family.id.toUpperCase()}/conflicts`).set(w.admin.auth).send({ applicantId: w.family.id });
      expect(self.status).toBe(400);
      expect(self.body.errors).toEqual([expect.objectContaining({ field: 'applicantId' })]);

      for (const who of [w.reviewer, w.second]) {
        const res = await post(`${app.id}/start-review`, who);
        expect(res.status).toBe(403);
        expect(res.body.type).toBe(`${PROBLEM}conflict-of-interest`);
      }
      // Nor may they read the family's file: what the family wrote, the assessment, documents, questions and decisions.
      const [documentId] = (await t.dataSource.query(`SELECT id FROM application_documents WHERE application_id = $1 LIMIT 1`, [app.id])).map((r: { id: string }) => r.id);
      for (const path of ['', '/assessment', '/documents', `/documents/${documentId}/content`, '/info-requests', '/decisions', '/changes', '/disbursements']) {
        const res = await t.http.get(`${API}/applications/${app.id}${path}`).set(w.reviewer.auth);
        expect([path, res.status, res.body.type]).toEqual([path, 403, `${PROBLEM}conflict-of-interest`]);
      }
      // The queue still lists it, marked, without the child's name or the assessment; its history stays readable, without
      // values or names (the submission's event carries the tier, which the line leaves out).
      const third = await signedInUser(t, 'reviewer');
      const historyFor = async (who: SignedIn) =>
        (await t.http.get(`${API}/applications/${app.id}/history`).set(who.auth).expect(200)).body.items as { action: string; actorId?: string; summary: object }[];
      const barred = await historyFor(w.reviewer);
      expect(barred.length).toBeGreaterThan(0);
      expect(barred.filter((e) => Object.keys(e.summary).length > 0 || 'actorId' in e)).toEqual([]);
      const full = await historyFor(third);
      expect(full.map((e) => e.action)).toEqual(barred.map((e) => e.action));
      expect(full.some((e) => 'tier' in e.summary)).toBe(true);
      const lineFor = async (who: SignedIn) =>
        ((await t.http.get(`${API}/applications?status=submitted`).set(who.auth).expect(200)).body.items as { id: string; tier: string }[]).find((i) => i.id === app.id);
      for (const who of [w.reviewer, w.second]) {
        expect(await lineFor(who)).toMatchObject({ reference: app.reference, patientName: null, tier: null, recommendedAmount: null, conflictOfInterest: true });
      }
      const seen = await lineFor(third);
      expect(seen).toMatchObject({ patientName: expect.any(String), tier: expect.any(String), conflictOfInterest: false });
      // Nor does a tier filter tell the tier the line leaves out: under its tier, the case is not listed to them.
      const underTier = async (who: SignedIn) =>
        ((await t.http.get(`${API}/applications?tier=${seen?.tier}`).set(who.auth).expect(200)).body.items as { id: string }[]).some((i) => i.id === app.id);
      expect([await underTier(w.reviewer), await underTier(w.second), await underTier(third)]).toEqual([false, false, true]);
      // The list's form of the rule (each user's conflicts read once) flags exactly what every review action's does.
      for (const who of [w.reviewer, w.second, third, w.admin]) {
        const flags = (await t.dataSource.query(
          `SELECT ${reviewerConflictSql('$1')} AS per_row, ${reviewerConflictInListSql('$1')} AS listed FROM applications a`,
          [who.id],
        )) as { per_row: boolean; listed: boolean }[];
        expect(flags.filter((f) => f.per_row !== f.listed)).toEqual([]);
        expect(flags.some((f) => f.per_row)).toBe(who === w.reviewer || who === w.second);
      }
      await post(`${app.id}/start-review`, third).expect(200);
      await t.http.get(`${API}/applications/${app.id}`).set(third.auth).expect(200);
      for (const [action, body] of [['request-info', { message: 'm' }], ['approve', { amount: 100 }], ['reject', { reason: 'r' }]] as const) {
        const res = await post(`${app.id}/${action}`, w.reviewer, body);
        expect([action, res.status, res.body.type]).toEqual([action, 403, `${PROBLEM}conflict-of-interest`]);
      }
      // Four-eyes cannot be satisfied by a conflicted second reviewer either.
      await post(`${app.id}/approve`, third, { amount: 7_000_000 }).expect(200);
      expect((await post(`${app.id}/approve`, w.second, { amount: 7_000_000 })).body.type).toBe(`${PROBLEM}conflict-of-interest`);

      const listed = await t.http.get(`${API}/users/${w.second.id}/conflicts`).set(w.admin.auth).expect(200);
      expect(listed.body.items.map((c: { id: string }) => c.id)).toEqual([hospitalConflict.body.id]);
      expect(listed.body.nextCursor).toBeNull();
      await t.http.delete(`${API}/users/${w.second.id}/conflicts/${hospitalConflict.body.id}`).set(w.admin.auth).expect(204);
      expect((await t.http.delete(`${API}/users/${w.second.id}/conflicts/${hospitalConflict.body.id}`).set(w.admin.auth)).status).toBe(404);
      expect((await post(`${app.id}/approve`, w.second, { amount: 7_000_000 })).body.status).toBe('approved');

      const audited = (await t.dataSource.query(`SELECT action FROM audit_events WHERE object_type = 'user' AND action LIKE 'reviewer_conflict.%' ORDER BY id`)) as {
        action: string;
      }[];
      expect(audited.map((r) => r.action)).toEqual(['reviewer_conflict.added', 'reviewer_conflict.added', 'reviewer_conflict.removed']);
    });

    it("keeps a family account later made reviewer from deciding its own application, first or second approval (403)", async () => {
      const w = await world();
      const app = await createSubmittedApplication(t, w.family, w.hospital.id);
      await t.http.patch(`${API}/users/${w.family.id}`).set(w.admin.auth).send({ role: 'reviewer' }).expect(200);
      const familyAsReviewer = { ...w.family, ...(await login(t, w.family.email)) };

      const own = await post(`${app.id}/start-review`, familyAsReviewer);
      expect([own.status, own.body.type]).toEqual([403, `${PROBLEM}conflict-of-interest`]);
      await post(`${app.id}/start-review`, w.reviewer).expect(200);
      for (const [action, body] of [['request-info', { message: 'm' }], ['approve', { amount: 7_000_000 }], ['reject', { reason: 'r' }]] as const) {
        const res = await post(`${app.id}/${action}`, familyAsReviewer, body);
        expect([action, res.status, res.body.type]).toEqual([action, 403, `${PROBLEM}conflict-of-interest`]);
      }
      // Four-eyes: the family cannot be the second person on its own grant either.
      await post(`${app.id}/approve`, w.reviewer, { amount: 7_000_000 }).expect(200);
      const second = await post(`${app.id}/approve`, familyAsReviewer, { amount: 7_000_000 });
      expect([second.status, second.body.type]).toEqual([403, `${PROBLEM}conflict-of-interest`]);
      expect((await status(app.id)).status).toBe('awaiting_second_approval');
      await post(`${app.id}/approve`, w.second, { amount: 7_000_000 }).expect(200);
    });

    // Only hospital finance holds a hospital, so "works for the treating hospital" never held for a reviewer who used to.
    it('keeps a hospital finance user later made reviewer, or moved to another hospital, from deciding the cases of the hospital they left', async () => {
      const w = await world();
      const other = await createHospital(t, w.admin);
      const app = await createSubmittedApplication(t, w.family, w.hospital.id);
      const otherFamily = await signedInUser(t, 'applicant');
      const elsewhere = await createSubmittedApplication(t, otherFamily, other.id, { patient: { nationalId: OTHER_PATIENT_NATIONAL_ID, dateOfBirth: '2018-03-07' } });
      const officer = await signedInUser(t, 'hospital_finance', { hospitalId: w.hospital.id });
      // Their own hospital sent back with the role change, as a whole form does.
      await t.http.patch(`${API}/users/${officer.id}`).set(w.admin.auth).send({ role: 'reviewer', hospitalId: w.hospital.id }).expect(200);
      const officerAsReviewer = { ...officer, ...(await login(t, officer.email)) };

      const own = await post(`${app.id}/start-review`, officerAsReviewer);
      expect([own.status, own.body.type]).toEqual([403, `${PROBLEM}conflict-of-interest`]);
      await post(`${elsewhere.id}/start-review`, officerAsReviewer).expect(200);
      expect((await status(app.id)).status).toBe('submitted');
      const listed = await t.http.get(`${API}/users/${officer.id}/conflicts`).set(w.admin.auth).expect(200);
      expect(listed.body.items).toEqual([expect.objectContaining({ reviewerId: officer.id, hospitalId: w.hospital.id, applicantId: null, createdBy: w.admin.id })]);

      // A reviewer made hospital finance and back; hospital finance moved from one hospital to another: each hospital
      // left is recorded once, however often it is left.
      const hospitalsLeft = async (id: string) =>
        ((await t.http.get(`${API}/users/${id}/conflicts`).set(w.admin.auth).expect(200)).body.items as { hospitalId: string }[]).map((c) => c.hospitalId).sort();
      const patch = (body: object) => t.http.patch(`${API}/users/${w.second.id}`).set(w.admin.auth).send(body).expect(200);
      await patch({ role: 'hospital_finance', hospitalId: other.id });
      expect(await hospitalsLeft(w.second.id)).toEqual([]);
      await patch({ hospitalId: w.hospital.id });
      expect(await hospitalsLeft(w.second.id)).toEqual([other.id]);
      await patch({ hospitalId: other.id });
      await patch({ role: 'reviewer' });
      expect(await hospitalsLeft(w.second.id)).toEqual([w.hospital.id, other.id].sort());
      const second = { ...w.second, ...(await login(t, w.second.email)) };
      expect((await post(`${app.id}/start-review`, second)).status).toBe(403);

      const audited = (await t.dataSource.query(
        `SELECT object_id, actor_id, summary FROM audit_events WHERE action = 'reviewer_conflict.added' ORDER BY id`,
      )) as { object_id: string; actor_id: string; summary: Record<string, unknown> }[];
      expect(audited).toEqual([
        { object_id: officer.id, actor_id: w.admin.id, summary: expect.objectContaining({ hospitalId: w.hospital.id, reason: 'left-hospital' }) },
        { object_id: w.second.id, actor_id: w.admin.id, summary: expect.objectContaining({ hospitalId: other.id }) },
        { object_id: w.second.id, actor_id: w.admin.id, summary: expect.objectContaining({ hospitalId: w.hospital.id }) },
      ]);
    });

    it('gives those who left a hospital before this release their conflict with it at the upgrade (from the audit trail), audited', async () => {
      const w = await world(0);
      const other = await createHospital(t, w.admin);
      const app = await createSubmittedApplication(t, w.family, w.hospital.id);
      const officer = await signedInUser(t, 'hospital_finance', { hospitalId: w.hospital.id });
      const moved = await signedInUser(t, 'hospital_finance', { hospitalId: w.hospital.id });
      const cleared = await signedInUser(t, 'hospital_finance', { hospitalId: w.hospital.id });
      await t.http.patch(`${API}/users/${officer.id}`).set(w.admin.auth).send({ role: 'reviewer' }).expect(200);
      await t.http.patch(`${API}/users/${moved.id}`).set(w.admin.auth).send({ hospitalId: other.id }).expect(200);
      await t.http.patch(`${API}/users/${cleared.id}`).set(w.admin.auth).send({ role: 'reviewer' }).expect(200);
      // An admin's removal after the move stands.
      const [removed] = (await t.http.get(`${API}/users/${cleared.id}/conflicts`).set(w.admin.auth).expect(200)).body.items;
      await t.http.delete(`${API}/users/${cleared.id}/conflicts/${removed.id}`).set(w.admin.auth).expect(204);
      // The database as the last release left it: the moves in the audit trail, no conflicts for them.
      await t.dataSource.query(`DELETE FROM reviewer_conflicts WHERE created_by = $1`, [w.admin.id]);

      expect(await ConflictsWithHospitalsLeft1763700018900.recordHospitalsLeft(t.dataSource)).toBe(2);
      expect(await ConflictsWithHospitalsLeft1763700018900.recordHospitalsLeft(t.dataSource)).toBe(0);
      const rows = (await t.dataSource.query(`SELECT reviewer_id, hospital_id, created_by FROM reviewer_conflicts ORDER BY reviewer_id`)) as object[];
      expect(rows).toEqual(
        expect.arrayContaining([
          { reviewer_id: officer.id, hospital_id: w.hospital.id, created_by: null },
          { reviewer_id: moved.id, hospital_id: w.hospital.id, created_by: null },
        ]),
      );
      expect(rows).toHaveLength(2);
      const officerAsReviewer = { ...officer, ...(await login(t, officer.email)) };
      expect((await post(`${app.id}/start-review`, officerAsReviewer)).body.type).toBe(`${PROBLEM}conflict-of-interest`);
      const [upgrade] = (await t.dataSource.query(
        `SELECT actor_id, summary FROM audit_events WHERE action = 'reviewer_conflict.added' AND object_id = $1 ORDER BY id DESC LIMIT 1`,
        [moved.id],
      )) as { actor_id: string | null; summary: Record<string, unknown> }[];
      expect(upgrade).toEqual({ actor_id: null, summary: { conflictId: expect.any(String), hospitalId: w.hospital.id, reason: 'left-hospital' } });
      expect((await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200)).body).toMatchObject({ ok: true });
    });

    it('keeps an admin from lifting a conflict recorded against themselves and deciding the case alone (403 own-conflict)', async () => {
      const w = await world();
      const app = await createSubmittedApplication(t, w.family, w.hospital.id);
      const conflict = await t.http.post(`${API}/users/${w.admin.id}/conflicts`).set(w.admin.auth).send({ applicantId: w.family.id }).expect(201);
      expect((await post(`${app.id}/start-review`, w.admin)).body.type).toBe(`${PROBLEM}conflict-of-interest`);
      const own = await t.http.delete(`${API}/users/${w.admin.id}/conflicts/${conflict.body.id}`).set(w.admin.auth);
      expect(own.status).toBe(403);
      expect(own.body.type).toBe(`${PROBLEM}own-conflict`);
      expect((await post(`${app.id}/start-review`, w.admin)).body.type).toBe(`${PROBLEM}conflict-of-interest`);
      // Nor through a reviewer account it makes with a password it knows: the account takes its conflicts.
      const made = { email: `made-${randomUUID().slice(0, 8)}@example.org`, fullName: 'Made Reviewer', role: 'reviewer', password: 'a password the admin knows' };
      const created = await t.http.post(`${API}/users`).set(w.admin.auth).send(made).expect(201);
      const puppet = { ...(await login(t, made.email, made.password)) } as SignedIn;
      expect((await post(`${app.id}/start-review`, puppet)).body.type).toBe(`${PROBLEM}conflict-of-interest`);
      const [event] = (await t.dataSource.query(`SELECT summary FROM audit_events WHERE action = 'user.created' AND object_id = $1`, [created.body.id])) as { summary: object }[];
      expect(event.summary).toMatchObject({ conflictsCopied: 1 });
      // An invitee chooses its own password: nothing is copied.
      const invited = await t.http.post(`${API}/users`).set(w.admin.auth).send({ ...made, email: `invited-${made.email}`, password: undefined }).expect(201);
      expect(await t.dataSource.query(`SELECT 1 FROM reviewer_conflicts WHERE reviewer_id = $1`, [invited.body.id])).toEqual([]);
      // Another admin may.
      const otherAdmin = await signedInUser(t, 'admin');
      await t.http.delete(`${API}/users/${w.admin.id}/conflicts/${conflict.body.id}`).set(otherAdmin.auth).expect(204);
      await post(`${app.id}/start-review`, w.admin).expect(200);
    });

    it("an admin may not lift the conflicts of an account they created or that created theirs, nor one naming their own family account", async () => {
      const w = await world();
      // A family account made admin: its own application is copied as a conflict to the reviewer it creates.
      const app = await createSubmittedApplication(t, w.family, w.hospital.id);
      await t.http.patch(`${API}/users/${w.family.id}`).set(w.admin.auth).send({ role: 'admin' }).expect(200);
      const familyAdmin = { ...(await login(t, w.family.email)), id: w.family.id, role: 'admin' as const };
      const helper = { email: `helper-${randomUUID().slice(0, 8)}@example.org`, fullName: 'Helper', role: 'reviewer', password: 'a password the admin knows' };
      const created = await t.http.post(`${API}/users`).set(familyAdmin.auth).send(helper).expect(201);
      const [copied] = (await t.http.get(`${API}/users/${created.body.id}/conflicts`).set(w.admin.auth).expect(200)).body.items as { id: string }[];
      const lift = (reviewerId: string, conflictId: string, who: SignedIn) => t.http.delete(`${API}/users/${reviewerId}/conflicts/${conflictId}`).set(who.auth);
      const own = await lift(created.body.id, copied.id, familyAdmin as SignedIn);
      expect([own.status, own.body.type]).toEqual([403, `${PROBLEM}own-conflict`]);
      const puppet = { ...(await login(t, helper.email, helper.password)) } as SignedIn;
      expect((await post(`${app.id}/start-review`, puppet)).body.type).toBe(`${PROBLEM}conflict-of-interest`);

      // An admin another admin created may not lift its creator's conflicts either, nor the creator its creation's.
      const conflict = await t.http.post(`${API}/users/${w.reviewer.id}/conflicts`).set(w.admin.auth).send({ hospitalId: w.hospital.id }).expect(201);
      const second = { email: `admin2-${randomUUID().slice(0, 8)}@example.org`, fullName: 'Second Admin', role: 'admin', password: 'a password the admin knows' };
      const admin2 = await t.http.post(`${API}/users`).set(w.admin.auth).send(second).expect(201);
      const admin2Auth = { ...(await login(t, second.email, second.password)), id: admin2.body.id, role: 'admin' } as SignedIn;
      const adminConflict = await t.http.post(`${API}/users/${w.admin.id}/conflicts`).set(admin2Auth.auth).send({ applicantId: (await signedInUser(t, 'applicant')).id }).expect(201);
      expect((await lift(w.admin.id, adminConflict.body.id, admin2Auth)).body.type).toBe(`${PROBLEM}own-conflict`);
      const admin2Conflict = await t.http.post(`${API}/users/${admin2.body.id}/conflicts`).set(admin2Auth.auth).send({ hospitalId: w.hospital.id }).expect(201);
      expect((await lift(admin2.body.id, admin2Conflict.body.id, w.admin)).body.type).toBe(`${PROBLEM}own-conflict`);
      // Nothing was lifted; an independent admin may.
      expect((await t.http.get(`${API}/users/${created.body.id}/conflicts`).set(w.admin.auth)).body.items).toHaveLength(1);
      const independent = await signedInUser(t, 'admin');
      await lift(created.body.id, copied.id, independent).expect(204);
      await lift(w.admin.id, adminConflict.body.id, independent).expect(204);
      await lift(w.reviewer.id, conflict.body.id, admin2Auth).expect(204); // not linked to the reviewer: allowed
    });

    it("a conflict with a family covers its child, whoever applies for it: the other guardian's account too (403), in the queue, the digest's rule", async () => {
      const w = await world();
      const first = await createSubmittedApplication(t, w.family, w.hospital.id);
      await t.http.post(`${API}/users/${w.reviewer.id}/conflicts`).set(w.admin.auth).send({ applicantId: w.family.id }).expect(201);
      // The child's father applies from an account of his own, for the same child (same national id).
      const father = await signedInUser(t, 'applicant');
      const second = await createSubmittedApplication(t, father, w.hospital.id);
      const res = await post(`${second.id}/start-review`, w.reviewer);
      expect([res.status, res.body.type]).toEqual([403, `${PROBLEM}conflict-of-interest`]);
      expect((await t.http.get(`${API}/applications/${second.id}/assessment`).set(w.reviewer.auth)).status).toBe(403);
      const line = ((await t.http.get(`${API}/applications?status=submitted`).set(w.reviewer.auth).expect(200)).body.items as { id: string; conflictOfInterest: boolean }[]).find(
        (i) => i.id === second.id,
      );
      expect(line).toMatchObject({ conflictOfInterest: true, patientName: null });
      // Another reviewer sees both, flagged as the same child.
      const seen = (await t.http.get(`${API}/applications/${second.id}/assessment`).set(w.second.auth).expect(200)).body;
      expect(seen).toMatchObject({ otherOpenApplications: [first.reference], otherOpenApplicationsWithheld: 0 });
      expect(seen.manualReviewReasons).toContain('duplicate_child_application');
      // Every form of the rule agrees: per row, in lists.
      const flags = (await t.dataSource.query(
        `SELECT a.id, ${reviewerConflictSql('$1')} AS per_row, ${reviewerConflictInListSql('$1')} AS listed FROM applications a`,
        [w.reviewer.id],
      )) as { id: string; per_row: boolean; listed: boolean }[];
      expect(flags.filter((f) => f.per_row).map((f) => f.id).sort()).toEqual([first.id, second.id].sort());
      expect(flags.filter((f) => f.per_row !== f.listed)).toEqual([]);
    });

    it('a reviewer barred from a duplicate application by a conflict is still told it exists (counted, not named), and of grants they may not see', async () => {
      const w = await world();
      const other = await createHospital(t, w.admin);
      const elsewhere = await createSubmittedApplication(t, w.family, other.id);
      await post(`${elsewhere.id}/start-review`, w.second).expect(200);
      await post(`${elsewhere.id}/approve`, w.second, { amount: 1_000_000 }).expect(200);
      const stillOpen = await createSubmittedApplication(t, w.family, other.id);
      await t.http.post(`${API}/users/${w.reviewer.id}/conflicts`).set(w.admin.auth).send({ hospitalId: other.id }).expect(201);
      const father = await signedInUser(t, 'applicant');
      const here = await createSubmittedApplication(t, father, w.hospital.id);
      const seen = (await t.http.get(`${API}/applications/${here.id}/assessment`).set(w.reviewer.auth).expect(200)).body;
      expect(seen).toMatchObject({ otherOpenApplications: [], otherOpenApplicationsWithheld: 2, earlierGrants: [], earlierGrantsWithheld: 1 });
      expect(seen.manualReviewReasons).toContain('duplicate_child_application');
      expect(JSON.stringify(seen)).not.toContain(stillOpen.reference);
      const colleague = (await t.http.get(`${API}/applications/${here.id}/assessment`).set(w.second.auth).expect(200)).body;
      expect(colleague).toMatchObject({ otherOpenApplications: [elsewhere.reference, stillOpen.reference], otherOpenApplicationsWithheld: 0, earlierGrantsWithheld: 0 });
      expect(colleague.earlierGrants.map((g: { reference: string }) => g.reference)).toEqual([elsewhere.reference]);
    });

    it('validates conflicts: exactly one known target, no duplicates, admins only', async () => {
      const w = await world(0);
      const url = `${API}/users/${w.reviewer.id}/conflicts`;
      for (const body of [{}, { applicantId: w.family.id, hospitalId: w.hospital.id }, { applicantId: 'nope' }, { applicantId: w.second.id }, { hospitalId: randomUUID() }, { note: 'x' }]) {
        expect([JSON.stringify(body), (await t.http.post(url).set(w.admin.auth).send(body)).status]).toEqual([JSON.stringify(body), 400]);
      }
      await t.http.post(url).set(w.admin.auth).send({ applicantId: w.family.id }).expect(201);
      const duplicate = await t.http.post(url).set(w.admin.auth).send({ applicantId: w.family.id });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.type).toBe(`${PROBLEM}reviewer-conflict-exists`);
      expect((await t.http.post(url).set(w.reviewer.auth).send({ hospitalId: w.hospital.id })).status).toBe(403);
      expect((await t.http.get(url).set(w.reviewer.auth)).status).toBe(403);
      expect((await t.http.get(`${API}/users/${randomUUID()}/conflicts`).set(w.admin.auth)).status).toBe(404);
      // Paged as every list is (API.md: limit 1–100, cursor; unknown fields refused), here and on an application's records.
      await t.http.post(url).set(w.admin.auth).send({ hospitalId: w.hospital.id }).expect(201);
      await t.http.post(url).set(w.admin.auth).send({ applicantId: (await signedInUser(t, 'applicant')).id }).expect(201);
      const first = await t.http.get(`${url}?limit=2`).set(w.admin.auth).expect(200);
      expect(first.body.items).toHaveLength(2);
      const rest = await t.http.get(`${url}?limit=2&cursor=${first.body.nextCursor}`).set(w.admin.auth).expect(200);
      expect(rest.body).toMatchObject({ items: [expect.any(Object)], nextCursor: null });
      const all = (await t.http.get(url).set(w.admin.auth).expect(200)).body.items.map((c: { id: string }) => c.id);
      expect([...first.body.items, ...rest.body.items].map((c: { id: string }) => c.id)).toEqual(all);
      const app = await createSubmittedApplication(t, w.family, w.hospital.id);
      for (const path of [url, `${API}/applications/${app.id}/decisions`, `${API}/applications/${app.id}/info-requests`]) {
        for (const query of ['limit=0', 'limit=101', 'limit=abc', 'foo=bar', 'cursor=not-a-cursor']) {
          expect([path, query, (await t.http.get(`${path}?${query}`).set(w.admin.auth)).status]).toEqual([path, query, 400]);
        }
      }
      expect((await t.http.post(`${API}/users/${randomUUID()}/conflicts`).set(w.admin.auth).send({ hospitalId: w.hospital.id })).status).toBe(404);
    });
  });

  it('serves the review queue oldest first with tier and recommended amount from the (status, submitted_at, id) index; started reviews leave it', async () => {
    const w = await world(0);
    const a = await createSubmittedApplication(t, w.family, w.hospital.id);
    const b = await createSubmittedApplication(t, w.family, w.hospital.id, { medical: { treatmentPlan: 'ist' } });
    const c = await createSubmittedApplication(t, w.family, w.hospital.id);
    await post(`${b.id}/start-review`, w.reviewer).expect(200);
    const first = await t.http.get(`${API}/applications`).query({ status: 'submitted', limit: 1 }).set(w.reviewer.auth).expect(200);
    expect(first.body.items).toEqual([expect.objectContaining({ id: a.id, status: 'submitted', tier: 'B', recommendedAmount: 10_000_000 })]);
    const second = await t.http.get(`${API}/applications`).query({ status: 'submitted', limit: 1, cursor: first.body.nextCursor }).set(w.reviewer.auth).expect(200);
    expect(second.body.items.map((i: { id: string }) => i.id)).toEqual([c.id]);
    expect(second.body.nextCursor).toBeNull();

    // The service's keyset query (a later page) is planned on the index, without a sort, even on a tiny table.
    const runner = t.dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      await runner.query('SET LOCAL enable_seqscan = off');
      const reviewer = { id: w.reviewer.id, email: w.reviewer.email, role: 'reviewer' as const, hospitalId: null, sessionId: randomUUID(), emailVerified: true };
      const statement = listStatement(reviewer, { status: 'submitted', after: { k: '2026-01-01T00:00:00Z', id: '00000000-0000-0000-0000-000000000000' }, limit: 20 })!;
      const plan = (await runner.query(`EXPLAIN ${statement.text}`, statement.values)) as { 'QUERY PLAN': string }[];
      const text = plan.map((p) => p['QUERY PLAN']).join('\n');
      expect(text).toContain('applications_status_first_submitted_idx');
      expect(text).not.toMatch(/\bSort\b/);
      // The page's size is in the text: as a parameter, the generic plan guessed a tenth of the table for it and was
      // never kept, so every page was planned again (BENCHMARKS.md, twenty-sixth pass).
      expect(statement.text).toMatch(/ LIMIT 21$/);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('publishes the review endpoints in the OpenAPI document', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
    for (const path of ['start-review', 'request-info', 'approve', 'reject']) expect(doc.paths[`${API}/applications/{id}/${path}`]?.post).toBeDefined();
    for (const path of ['history', 'changes', 'decisions']) expect(doc.paths[`${API}/applications/{id}/${path}`]?.get).toBeDefined();
    expect(doc.paths[`${API}/users/{id}/conflicts`]).toHaveProperty('post');
    expect(doc.paths[`${API}/users/{id}/conflicts/{conflictId}`]).toHaveProperty('delete');
  });
});
