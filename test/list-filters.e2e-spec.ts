import { SignedIn } from 'test/support/factories';
import { approvedGrant, grantWorld, GrantWorld, payTranche, tranchesOf } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';

/** API.md writes `GET /disbursements?status=&hospitalId=`: a filter sent empty is a filter left out. */
describe('Empty list filters (e2e)', () => {
  let t: TestApp;
  let w: GrantWorld;
  beforeAll(async () => {
    t = await startTestApp();
    await t.reset();
    w = await grantWorld(t);
    const paid = await approvedGrant(t, w);
    await approvedGrant(t, w);
    const [tranche] = await tranchesOf(t, w, paid);
    await payTranche(t, w, tranche.id as string);
  });
  afterAll(async () => {
    await t.close();
  });

  const get = async (path: string, who: SignedIn) => {
    const res = await t.http.get(`${API}${path}`).set(who.auth);
    return { status: res.status, body: res.body as unknown, text: res.text };
  };

  it('GET /applications?status= (or hospitalId=, tier=, cursor=) answers 200 as without the filter', async () => {
    for (const who of [w.reviewer, w.family, w.hospitalFinance]) {
      const all = await get('/applications', who);
      expect(all.status).toBe(200);
      expect((all.body as { items: unknown[] }).items).toHaveLength(2);
      const queries = ['status=', 'hospitalId=', 'status=&hospitalId=', 'cursor=', ...(who === w.hospitalFinance ? [] : ['tier=', 'status=&hospitalId=&tier='])];
      for (const query of queries) expect({ query, ...(await get(`/applications?${query}`, who)) }).toEqual({ query, ...all });
    }
    // A filter with a value still filters, and a value that is no status is still refused.
    expect(((await get('/applications?status=disbursing', w.reviewer)).body as { items: unknown[] }).items).toHaveLength(1);
    expect((await get('/applications?status=nonsense', w.reviewer)).status).toBe(400);
  });

  it('GET /disbursements?status=&hospitalId= answers 200 as without the filter, and so does the payment file', async () => {
    for (const who of [w.finance, w.hospitalFinance]) {
      const all = await get('/disbursements', who);
      expect(all.status).toBe(200);
      expect((all.body as { items: unknown[] }).items).toHaveLength(2);
      for (const query of ['status=&hospitalId=', 'status=', 'hospitalId=', 'payeeOutdated=', 'cursor=']) {
        expect({ query, ...(await get(`/disbursements?${query}`, who)) }).toEqual({ query, ...all });
      }
    }
    expect(((await get('/disbursements?status=paid', w.finance)).body as { items: unknown[] }).items).toHaveLength(1);
    // The payment file's status defaults to scheduled: sent empty, it is that default.
    const file = await get('/disbursements/export?alreadyExported=include', w.finance);
    expect(file.status).toBe(200);
    expect(await get('/disbursements/export?status=&hospitalId=&alreadyExported=include', w.finance)).toEqual(file);
  });

  it("the other lists' optional filters too; required parameters and limit stay required or checked", async () => {
    for (const [path, who] of [
      ['/users?role=', w.admin],
      ['/notifications?status=', w.admin],
      ['/reconciliation/statements?hospitalId=', w.finance],
      ['/reports/summary?from=&to=', w.admin],
      ['/reconciliation/report?from=2026-01-01&to=2026-12-31&hospitalId=', w.finance],
      ['/reconciliation/report?from=2026-01-01&to=2026-12-31&format=', w.finance],
      ['/disbursements/export?format=&outdatedPayees=&reissue=', w.finance],
    ] as const) {
      expect({ path, status: (await get(path, who)).status }).toEqual({ path, status: 200 });
    }
    const users = await get('/users', w.admin);
    expect(await get('/users?role=', w.admin)).toEqual(users);
    expect((await get('/reconciliation/report?from=&to=', w.finance)).status).toBe(400);
    expect((await get('/applications?limit=', w.reviewer)).status).toBe(400);
  });
});
