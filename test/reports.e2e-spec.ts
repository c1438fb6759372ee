import { randomUUID } from 'node:crypto';
import { approvedGrant, csvStatement, grantWorld, GrantWorld } from 'test/support/grant-factory';
import { createHospital, signedInUser } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());

describe('Reports (e2e)', () => {
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
    w = await grantWorld(t, 50_000_000);
  });

  it('sums approvals, live payments and reconciled payments per hospital and month, next to the fund position', async () => {
    const other = await createHospital(t, w.admin, 'OTHER');
    const a = await approvedGrant(t, w, { amount: 2_000_000 });
    const b = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 1_500_000 });
    await approvedGrant(t, { ...w, hospital: other, family: await signedInUser(t, 'applicant') }, { amount: 1_000_000 });

    const [trancheA] = (await t.http.get(`${API}/applications/${a.id}/disbursements`).set(w.finance.auth).expect(200)).body.items;
    const [trancheB] = (await t.http.get(`${API}/applications/${b.id}/disbursements`).set(w.finance.auth).expect(200)).body.items;
    for (const tranche of [trancheA, trancheB]) {
      await t.http.post(`${API}/disbursements/${tranche.id}/pay`).set(w.finance.auth).set('Idempotency-Key', randomUUID())
        .send({ paidOn: today(), bankReference: `TRF-${randomUUID().slice(0, 6)}` }).expect(200);
    }
    const statement = csvStatement([{ amount: '20000.00', remittance: `Sprout ${trancheA.reference}`, accountServicerReference: 'B-1' }]);
    const imported = await t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).attach('file', statement, 'statement.csv');
    expect(imported.status).toBe(201);
    expect(imported.body.matched).toBe(1);

    const res = await t.http.get(`${API}/reports/summary`).set(w.admin.auth).expect(200);
    expect(res.body.totals).toEqual({ approved: 4_500_000, disbursed: 3_500_000, reconciled: 2_000_000 });
    expect(res.body.fund).toEqual({ received: 50_000_000, available: 45_500_000, committed: 1_000_000, disbursed: 3_500_000 });
    expect(res.body.applicationsByStatus).toMatchObject({ approved: 1, disbursing: 1, completed: 1, draft: 0 });
    // Sorted by hospital code: the world's hospital is H…, before OTHER.
    expect(res.body.byHospital).toEqual([
      expect.objectContaining({ hospitalId: w.hospital.id, submitted: 2, grants: 2, approved: 3_500_000, disbursed: 3_500_000, reconciled: 2_000_000 }),
      expect.objectContaining({ hospitalId: other.id, hospitalCode: 'OTHER', submitted: 1, grants: 1, approved: 1_000_000, disbursed: 0, reconciled: 0 }),
    ]);
    expect(res.body.byMonth).toEqual([{ month: today().slice(0, 7), submitted: 3, grants: 3, approved: 4_500_000, disbursed: 3_500_000, reconciled: 2_000_000 }]);

    const empty = await t.http.get(`${API}/reports/summary?from=2000-01-01&to=2000-12-31`).set(w.finance.auth).expect(200);
    expect(empty.body.totals).toEqual({ approved: 0, disbursed: 0, reconciled: 0 });
    expect(empty.body.byMonth).toEqual([]);
  });

  it('is for admin and fund finance only, and refuses a reversed or malformed period', async () => {
    await t.http.get(`${API}/reports/summary`).set(w.reviewer.auth).expect(403);
    await t.http.get(`${API}/reports/summary`).set(w.family.auth).expect(403);
    const reversed = await t.http.get(`${API}/reports/summary?from=2026-02-01&to=2026-01-01`).set(w.admin.auth);
    expect(reversed.status).toBe(400);
    expect(reversed.body.errors).toEqual([expect.objectContaining({ field: 'to' })]);
    await t.http.get(`${API}/reports/summary?from=2026-02-30`).set(w.admin.auth).expect(400);
  });
});
