import { randomUUID } from 'node:crypto';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { createDraftApplication, createSubmittedApplication, files, uploadDocument, uploadRequiredDocuments } from 'test/support/application-factory';
import { hospitalBody, login, PASSWORD, signedInUser, uniqueEmail } from 'test/support/factories';
import { approvedGrant, grantWorld, GrantWorld } from 'test/support/grant-factory';
import { writeSecurityFigure } from 'test/support/security-report';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const statuses = (responses: { status: number }[]) =>
  responses.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});

/**
 * Races across features, each followed by the two global checks: the ledger balances and the audit chain is intact.
 * (Single-feature races are proven beside their features: review-concurrency, disbursements, fund-ledger.)
 */
describe('Concurrency across the service (e2e)', () => {
  let t: TestApp;
  let w: GrantWorld;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '100000' });
  });
  afterAll(async () => {
    writeSecurityFigure('concurrency', figures);
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    w = await grantWorld(t, 100_000_000);
  });
  afterEach(async () => {
    const ledger = await t.http.get(`${API}/fund/ledger/verify`).set(w.admin.auth).expect(200);
    expect(ledger.body.ok).toBe(true);
    const audit = await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200);
    expect(audit.body).toMatchObject({ ok: true });
    const fund = await t.http.get(`${API}/fund`).set(w.admin.auth).expect(200);
    expect(fund.body.received).toBe(fund.body.available + fund.body.committed + fund.body.disbursed);
    expect(fund.body.available).toBeGreaterThanOrEqual(0);
  });

  const underReview = async (): Promise<string> => {
    const app = await createSubmittedApplication(t, w.family, w.hospital.id);
    await t.http.post(`${API}/applications/${app.id}/start-review`).set(w.reviewer.auth).send({}).expect(200);
    return app.id;
  };

  it('100 parallel approve requests on one application (two reviewers, mixed with 50 rejects and 50 info requests): exactly one transition', async () => {
    const other = await signedInUser(t, 'reviewer');
    const id = await underReview();
    const before = (await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE object_id = $1`, [id]))[0].n as number;
    const calls = [
      ...Array.from({ length: 100 }, (_, i) => () => t.http.post(`${API}/applications/${id}/approve`).set((i % 2 ? other : w.reviewer).auth).send({ amount: 2_000_000 })),
      ...Array.from({ length: 50 }, () => () => t.http.post(`${API}/applications/${id}/reject`).set(w.reviewer.auth).send({ reason: 'Household income above the limit' })),
      ...Array.from({ length: 50 }, () => () => t.http.post(`${API}/applications/${id}/request-info`).set(other.auth).send({ message: 'Please upload the income proof again.' })),
    ].sort(() => Math.random() - 0.5);
    const responses = await Promise.all(calls.map((call) => call()));
    const won = responses.filter((r) => r.status === 200);
    figures.mixedRace = { requests: responses.length, statuses: statuses(responses), winner: won[0]?.body?.status };
    expect(won).toHaveLength(1);
    expect(responses.filter((r) => r.status !== 200).every((r) => r.status === 409)).toBe(true);
    const [row] = await t.dataSource.query(`SELECT status, version FROM applications WHERE id = $1`, [id]);
    expect(row.status).toBe(won[0].body.status);
    const after = (await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE object_id = $1`, [id]))[0].n as number;
    expect(after - before).toBeGreaterThanOrEqual(1);
    const committed = (await t.http.get(`${API}/fund`).set(w.admin.auth).expect(200)).body.committed;
    expect(committed).toBe(row.status === 'approved' ? 2_000_000 : 0);
    const [{ d }] = await t.dataSource.query(`SELECT count(*)::int AS d FROM disbursements WHERE application_id = $1`, [id]);
    expect(d).toBe(row.status === 'approved' ? 1 : 0);
  });

  it('50 parallel payouts of one tranche with one Idempotency-Key: one payment, one ledger movement, the rest replay it or are told it is in flight', async () => {
    const grant = await approvedGrant(t, w, { amount: 3_000_000 });
    const [tranche] = (await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(w.finance.auth).expect(200)).body.items;
    const key = randomUUID();
    const body = { paidOn: todayIn(FUND_TIME_ZONE), bankReference: 'ICBC-TRF-0001' };
    const responses = await Promise.all(Array.from({ length: 50 }, () => t.http.post(`${API}/disbursements/${tranche.id}/pay`).set(w.finance.auth).set('Idempotency-Key', key).send(body)));
    figures.idempotentPayouts = { requests: 50, statuses: statuses(responses) };
    expect(responses.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const ok = responses.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const [counts] = await t.dataSource.query(
      `SELECT (SELECT count(*) FROM disbursement_payments WHERE disbursement_id = $1)::int AS payments,
              (SELECT count(*) FROM disbursements WHERE id = $1 AND status = 'paid')::int AS paid`,
      [tranche.id],
    );
    expect(counts).toEqual({ payments: 1, paid: 1 });
    expect((await t.http.get(`${API}/fund`).set(w.admin.auth).expect(200)).body).toMatchObject({ disbursed: 3_000_000, committed: 0 });
    // A replay after the race returns the same stored answer.
    const replay = await t.http.post(`${API}/disbursements/${tranche.id}/pay`).set(w.finance.auth).set('Idempotency-Key', key).send(body).expect(200);
    expect(replay.body).toEqual(ok[0].body);
  });

  it('no overcommit when approvals, grant cancellations, payouts and donations interleave', async () => {
    await t.reset();
    w = await grantWorld(t, 10_000_000); // ¥100,000
    const reviewers = [w.reviewer, await signedInUser(t, 'reviewer'), await signedInUser(t, 'reviewer')];
    const paid = await approvedGrant(t, w, { amount: 2_000_000 });
    const [tranche] = (await t.http.get(`${API}/applications/${paid.id}/disbursements`).set(w.finance.auth).expect(200)).body.items;
    const toCancel = await approvedGrant(t, w, { amount: 2_000_000 });
    const queue: string[] = [];
    for (let i = 0; i < 12; i++) queue.push(await underReview());
    const responses = await Promise.all([
      ...queue.map((id, i) => t.http.post(`${API}/applications/${id}/approve`).set(reviewers[i % 3].auth).send({ amount: 1_000_000 })),
      t.http.post(`${API}/disbursements/${tranche.id}/pay`).set(w.finance.auth).set('Idempotency-Key', randomUUID()).send({ paidOn: todayIn(FUND_TIME_ZONE), bankReference: 'TRF-1' }),
      t.http.post(`${API}/applications/${toCancel.id}/cancel`).set(w.finance.auth).send({ reason: 'Treatment abroad' }),
      ...Array.from({ length: 3 }, () =>
        t.http.post(`${API}/fund/contributions`).set(w.finance.auth).send({ amount: 500_000, donorName: 'Donor', receivedOn: todayIn(FUND_TIME_ZONE), reference: `R-${randomUUID()}` }),
      ),
    ]);
    figures.interleaved = { requests: responses.length, statuses: statuses(responses) };
    expect(responses.every((r) => r.status < 500)).toBe(true);
    const approved = responses.slice(0, queue.length).filter((r) => r.status === 200).length;
    const refused = responses.slice(0, queue.length).filter((r) => r.status === 409 && String(r.body.type).endsWith('insufficient-funds')).length;
    expect(approved + refused).toBe(queue.length);
    // Available was ¥60,000 (+¥20,000 released, +¥15,000 donated, in some order): at most 9 of ¥10,000, at least 6.
    expect(approved).toBeGreaterThanOrEqual(6);
    expect(approved).toBeLessThanOrEqual(9);
    const fund = (await t.http.get(`${API}/fund`).set(w.admin.auth).expect(200)).body;
    expect(fund).toMatchObject({ received: 11_500_000, committed: approved * 1_000_000, disbursed: 2_000_000 });
  });

  it('uploads racing the submission never add a document to a submitted application', async () => {
    const draft = await createDraftApplication(t, w.family, w.hospital.id);
    await uploadRequiredDocuments(t, w.family, draft.id);
    const [submit, ...uploads] = await Promise.all([
      t.http.post(`${API}/applications/${draft.id}/submit`).set(w.family.auth).send(),
      ...Array.from({ length: 20 }, (_, i) => uploadDocument(t, w.family, draft.id, 'other', files.pdf(`% ${i}\n`), `late-${i}.pdf`)),
    ]);
    figures.uploadVsSubmit = { submit: submit.status, uploads: statuses(uploads) };
    expect(submit.status).toBe(200);
    expect(uploads.every((u) => u.status === 201 || u.status === 409)).toBe(true);
    const late = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM application_documents d JOIN applications a ON a.id = d.application_id
        WHERE a.id = $1 AND d.created_at > a.submitted_at`,
      [draft.id],
    );
    expect(late).toEqual([{ n: 0 }]);
    // What the reviewers see is what was submitted: every accepted upload is listed, none after.
    // One page of up to 100: with the default 20, a race that let more than 15 uploads in failed the count.
    const listed = (await t.http.get(`${API}/applications/${draft.id}/documents`).query({ limit: 100 }).set(w.reviewer.auth).expect(200)).body.items.length;
    expect(listed).toBe(5 + uploads.filter((u) => u.status === 201).length);
  });

  it('the same draft edited 30 times in parallel with one If-Match version: one edit wins', async () => {
    const draft = await createDraftApplication(t, w.family, w.hospital.id);
    // Every edit must change something: an edit that leaves the draft as it is (its own household size) is a
    // no-op that rightly answers 200 when it happens to lock the row before the winner, and the race is lost.
    const drafted = (draft.body.household as { size: number }).size;
    const sizes = Array.from({ length: 30 }, (_, i) => drafted + 1 + (i % 10));
    const responses = await Promise.all(
      sizes.map((size) => t.http.patch(`${API}/applications/${draft.id}`).set(w.family.auth).set('If-Match', `"${draft.version}"`).send({ household: { size } })),
    );
    figures.ifMatch = statuses(responses);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.status !== 200).every((r) => r.status === 409)).toBe(true);
    const [row] = await t.dataSource.query(`SELECT version FROM applications WHERE id = $1`, [draft.id]);
    expect(row.version).toBe(draft.version + 1);
  });

  it('duplicates raced in: one registration per email, one hospital per code, one contribution per reference (the rest 409, never 500)', async () => {
    const email = uniqueEmail('race');
    const regs = await Promise.all(Array.from({ length: 20 }, () => t.http.post(`${API}/auth/register`).send({ email, password: PASSWORD, fullName: 'X' })));
    const body = hospitalBody();
    const hospitals = await Promise.all(Array.from({ length: 20 }, () => t.http.post(`${API}/hospitals`).set(w.admin.auth).send(body)));
    const reference = `DUP-${randomUUID()}`;
    const gifts = await Promise.all(
      Array.from({ length: 20 }, () => t.http.post(`${API}/fund/contributions`).set(w.finance.auth).send({ amount: 100, donorName: 'D', receivedOn: todayIn(FUND_TIME_ZONE), reference })),
    );
    figures.duplicates = { register: statuses(regs), hospitals: statuses(hospitals), contributions: statuses(gifts) };
    for (const [responses, created] of [
      [regs, 201],
      [hospitals, 201],
      [gifts, 201],
    ] as const) {
      expect(responses.filter((r) => r.status === created)).toHaveLength(1);
      expect(responses.filter((r) => r.status !== created).every((r) => r.status === 409)).toBe(true);
    }
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [email]);
    expect(n).toBe(1);
  });

  it('one refresh token presented 20 times at once rotates exactly once', async () => {
    const user = await signedInUser(t, 'applicant');
    const session = await login(t, user.email);
    const responses = await Promise.all(Array.from({ length: 20 }, () => t.http.post(`${API}/auth/refresh`).send({ refreshToken: session.refreshToken })));
    figures.refreshRace = statuses(responses);
    // The row lock serializes them: the first rotates, every later one presents a spent token.
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(responses.every((r) => r.status === 200 || r.status === 401)).toBe(true);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM refresh_tokens r JOIN auth_sessions s ON s.id = r.session_id WHERE s.user_id = $1 AND r.used_at IS NULL AND s.revoked_at IS NULL`,
      [user.id],
    );
    expect(n).toBeLessThanOrEqual(2); // the signedInUser session's token, and at most one rotated successor
  });
});

