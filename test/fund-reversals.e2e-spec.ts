import { randomUUID } from 'node:crypto';
import { SignedIn } from 'test/support/factories';
import { approvedGrant, grantWorld, GrantWorld } from 'test/support/grant-factory';
import { tableDigests } from 'test/support/security-world';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';

describe('Fund: reversing a contribution recorded by mistake (e2e)', () => {
  let t: TestApp;
  let w: GrantWorld;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    w = await grantWorld(t, 0);
  });

  const contribute = async (amount: number, reference = `ICBC-${randomUUID().slice(0, 12)}`, who: SignedIn = w.finance) =>
    (await t.http.post(`${API}/fund/contributions`).set(who.auth).send({ amount, donorName: '上海某慈善基金会', receivedOn: '2026-09-15', reference }).expect(201))
      .body as { id: string; reference: string };
  const reverse = (id: string, body: object = { reason: 'Entered in fen instead of yuan' }, who: SignedIn = w.finance, key?: string) => {
    const req = t.http.post(`${API}/fund/contributions/${id}/reverse`).set(who.auth);
    return key === undefined ? req.send(body) : req.set('Idempotency-Key', key).send(body);
  };
  const fund = async () => (await t.http.get(`${API}/fund`).set(w.finance.auth).expect(200)).body as Record<string, number>;
  const verified = async () => {
    const ledger = await t.http.get(`${API}/fund/ledger/verify`).set(w.admin.auth).expect(200);
    const audit = await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200);
    return { ledger: ledger.body.ok, audit: audit.body.ok };
  };
  const count = async (table: string) => ((await t.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`)) as { n: number }[])[0].n;

  it('moves the whole amount available → donations once, audited, and the contribution shows who reversed it, when and why', async () => {
    await contribute(40_000);
    const before = await fund();
    const typo = await contribute(12_345_600); // ¥123.456 typed as fen ×100
    expect(await fund()).toEqual({ ...before, received: before.received + 12_345_600, available: before.available + 12_345_600 });

    const res = await reverse(typo.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: typo.id,
      amount: 12_345_600,
      reference: typo.reference,
      reversed: true,
      reversal: { reversedAt: expect.any(String), reversedBy: w.finance.id, reason: 'Entered in fen instead of yuan' },
    });
    expect(await fund()).toEqual(before);
    expect(await verified()).toEqual({ ledger: true, audit: true });

    const entries = await t.dataSource.query(
      `SELECT j.kind, j.posting_key, e.account_code, e.amount::text FROM ledger_entries e JOIN journal_transactions j ON j.id = e.transaction_id
        WHERE j.contribution_id = $1 ORDER BY j.id, e.account_code`,
      [typo.id],
    );
    expect(entries).toEqual([
      { kind: 'contribution', posting_key: `contribution:${typo.id}`, account_code: 'donations', amount: '-12345600' },
      { kind: 'contribution', posting_key: `contribution:${typo.id}`, account_code: 'fund:available', amount: '12345600' },
      { kind: 'contribution_reversal', posting_key: `contribution-reversal:${typo.id}`, account_code: 'donations', amount: '12345600' },
      { kind: 'contribution_reversal', posting_key: `contribution-reversal:${typo.id}`, account_code: 'fund:available', amount: '-12345600' },
    ]);
    const audit = await t.dataSource.query(`SELECT actor_id, action, summary FROM audit_events WHERE object_id = $1 ORDER BY id`, [typo.id]);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(['fund.contribution_recorded', 'fund.contribution_reversed']);
    expect(audit[1]).toMatchObject({ actor_id: w.finance.id, summary: { amount: 12_345_600, from: 'fund:available', to: 'donations', journalTransactionId: expect.any(String) } });

    // The list says which donations were reversed.
    const list = await t.http.get(`${API}/fund/contributions`).set(w.finance.auth).expect(200);
    const byId = Object.fromEntries(list.body.items.map((c: { id: string }) => [c.id, c]));
    expect(byId[typo.id]).toMatchObject({ reversed: true, reversal: { reversedBy: w.finance.id, reason: 'Entered in fen instead of yuan' } });
    expect(Object.values(byId).filter((c) => (c as { reversed: boolean }).reversed)).toHaveLength(1);
    expect(list.body.items.find((c: { id: string }) => c.id !== typo.id)).toMatchObject({ reversed: false, reversal: null });
  });

  it("closes a month: the period's donations (by day received) and reversals (by the China day made), and the list of them", async () => {
    const receive = (amount: number, receivedOn: string) =>
      t.http.post(`${API}/fund/contributions`).set(w.finance.auth).send({ amount, donorName: '某基金会', receivedOn, reference: `R-${randomUUID().slice(0, 8)}` }).expect(201);
    const october = (await receive(1_000_000, '2026-10-31')).body;
    await receive(2_000_000, '2026-11-01');
    await receive(3_000_000, '2026-11-30');
    await receive(4_000_000, '2026-12-01');
    await reverse(october.id).expect(200); // an October donation reversed today: a correction of today's month
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    const totals = async (query: string) => (await t.http.get(`${API}/fund/contributions/totals?${query}`).set(w.finance.auth).expect(200)).body;

    expect(await totals('from=2026-11-01&to=2026-11-30')).toEqual({
      from: '2026-11-01',
      to: '2026-11-30',
      received: { count: 2, amount: 5_000_000 },
      reversed: { count: 0, amount: 0 },
      net: 5_000_000,
    });
    expect((await totals('from=2026-10-01&to=2026-10-31')).received).toEqual({ count: 1, amount: 1_000_000 });
    expect((await totals(`from=${today}&to=${today}`)).reversed).toEqual({ count: 1, amount: 1_000_000 });
    expect(await totals('')).toMatchObject({ from: null, to: null, received: { count: 4, amount: 10_000_000 }, net: 9_000_000 });
    const listed = await t.http.get(`${API}/fund/contributions?from=2026-11-01&to=2026-11-30`).set(w.finance.auth).expect(200);
    expect(listed.body.items.map((c: { receivedOn: string }) => c.receivedOn)).toEqual(['2026-11-30', '2026-11-01']);
    for (const bad of ['from=2026-02-30', 'to=yesterday', 'from=2026-12-01&from=2026-12-02', 'from=2026-12-31&to=2026-12-01']) {
      expect({ bad, status: (await t.http.get(`${API}/fund/contributions/totals?${bad}`).set(w.finance.auth)).status }).toEqual({ bad, status: 400 });
    }
    await t.http.get(`${API}/fund/contributions/totals`).set(w.reviewer.auth).expect(403);
  });

  it('lets an admin reverse too, and the receipt can then be recorded again correctly', async () => {
    const wrong = await contribute(5_000_000, 'ABC-20260915-7');
    await reverse(wrong.id, { reason: 'Wrong donor' }, w.admin).expect(200);
    // The same bank receipt, recorded again with the right details (also as another spelling of it).
    await contribute(50_000, 'abc 20260915 7');
    await t.http.post(`${API}/fund/contributions`).set(w.finance.auth).send({ amount: 1, donorName: 'D', receivedOn: '2026-09-15', reference: 'ABC-20260915-7' }).expect(409);
    expect(await fund()).toMatchObject({ received: 50_000, available: 50_000 });
    expect(await verified()).toEqual({ ledger: true, audit: true });
  });

  it('reverses once: again → 409 and nothing written, also when two arrive together', async () => {
    const a = await contribute(10_000);
    await reverse(a.id).expect(200);
    const digests = await tableDigests(t);
    const again = await reverse(a.id, { reason: 'Once more' });
    expect(again.status).toBe(409);
    expect(again.body.type).toMatch(/contribution-already-reversed$/);
    expect(await tableDigests(t)).toEqual(digests);
    expect(await count('fund_contribution_reversals')).toBe(1);

    const b = await contribute(20_000);
    const together = await Promise.all(Array.from({ length: 6 }, () => reverse(b.id).then((r) => r)));
    expect(together.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    expect(await fund()).toMatchObject({ received: 0, available: 0 });
    expect(await verified()).toEqual({ ledger: true, audit: true });
  });

  it('refuses with 409 when the money is already committed to grants, writing nothing; reversible once the grant is cancelled', async () => {
    const big = await contribute(3_000_000);
    const small = await contribute(500_000);
    const grant = await approvedGrant(t, w, { amount: 2_000_000 });
    expect(await fund()).toMatchObject({ available: 1_500_000, committed: 2_000_000 });

    const digests = await tableDigests(t);
    const refused = await reverse(big.id);
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body).toMatchObject({ type: expect.stringMatching(/insufficient-funds$/), requested: 3_000_000, available: 1_500_000 });
    expect(refused.body.detail).toMatch(/committed to grants/);
    expect(await tableDigests(t)).toEqual(digests);
    expect(await count('fund_contribution_reversals')).toBe(0);

    await reverse(small.id).expect(200);
    expect(await fund()).toMatchObject({ received: 3_000_000, available: 1_000_000, committed: 2_000_000 });

    await t.http.post(`${API}/applications/${grant.id}/cancel`).set(w.finance.auth).send({ reason: 'Treatment abroad' }).expect(200);
    await reverse(big.id).expect(200);
    expect(await fund()).toEqual({ received: 0, available: 0, committed: 0, disbursed: 0 });
    expect(await verified()).toEqual({ ledger: true, audit: true });
  });

  it('is for fund finance and admins only: 403 for families, reviewers and hospital finance, 401 without a token', async () => {
    const a = await contribute(10_000);
    for (const who of [w.family, w.reviewer, w.hospitalFinance]) {
      const res = await reverse(a.id, undefined, who);
      expect({ role: who.role, status: res.status }).toEqual({ role: who.role, status: 403 });
    }
    await t.http.post(`${API}/fund/contributions/${a.id}/reverse`).send({ reason: 'x' }).expect(401);
    expect(await fund()).toMatchObject({ received: 10_000 });
    expect(await count('fund_contribution_reversals')).toBe(0);
  });

  it('answers 404 for an unknown contribution, 400 for a malformed id or reason, and writes nothing', async () => {
    const a = await contribute(10_000);
    const digests = await tableDigests(t);
    const unknown = await reverse(randomUUID());
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/application\/problem\+json/);
    await reverse('not-a-uuid').expect(400);
    const cases: [object, string][] = [
      [{}, 'reason'],
      [{ reason: '   ' }, 'reason'],
      [{ reason: '\u200b\u200e' }, 'reason'],
      [{ reason: 'a'.repeat(1001) }, 'reason'],
      [{ reason: 'ok', amount: 5 }, 'amount'],
    ];
    for (const [body, field] of cases) {
      const res = await reverse(a.id, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }
    expect(await tableDigests(t)).toEqual(digests);
  });

  it('takes an Idempotency-Key: the same request replays its answer, another with the same key is 422', async () => {
    const a = await contribute(10_000);
    const first = await reverse(a.id, undefined, w.finance, 'rev-1');
    expect(first.status).toBe(200);
    const again = await reverse(a.id, undefined, w.finance, 'rev-1');
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const other = await reverse(a.id, { reason: 'Another reason' }, w.finance, 'rev-1');
    expect(other.status).toBe(422);
    expect(await fund()).toMatchObject({ received: 0 });
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    const op = doc.paths[`${API}/fund/contributions/{id}/reverse`]?.post;
    expect(op).toBeDefined();
    expect(op['x-access']).toEqual({ roles: ['fund_finance', 'admin'] });
    expect(op.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]));
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '409', '422']));
    expect(op.responses['201']).toBeUndefined();
    expect(doc.components.schemas.ContributionDto.properties).toMatchObject({ reversed: expect.anything(), reversal: expect.anything() });
  });
});
