import { randomUUID } from 'node:crypto';
import { approvedGrant, csvStatement, grantWorld, GrantWorld } from 'test/support/grant-factory';
import { createHospital, signedInUser } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const shanghaiDay = (offsetDays = 0) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() + offsetDays * 86_400_000));
const today = () => shanghaiDay();

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

  it('sums approvals, payments and reconciled payments per hospital and month, next to the fund position', async () => {
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
    expect(res.body.totals).toEqual({ approved: 4_500_000, disbursed: 3_500_000, returned: 0, reconciled: 2_000_000 });
    expect(res.body.fund).toEqual({ received: 50_000_000, available: 45_500_000, committed: 1_000_000, disbursed: 3_500_000 });
    expect(res.body.applicationsByStatus).toMatchObject({ approved: 1, disbursing: 1, completed: 1, draft: 0 });
    // Sorted by hospital code: the world's hospital is H…, before OTHER.
    expect(res.body.byHospital).toEqual([
      expect.objectContaining({ hospitalId: w.hospital.id, submitted: 2, grants: 2, approved: 3_500_000, disbursed: 3_500_000, reconciled: 2_000_000 }),
      expect.objectContaining({ hospitalId: other.id, hospitalCode: 'OTHER', submitted: 1, grants: 1, approved: 1_000_000, disbursed: 0, reconciled: 0 }),
    ]);
    expect(res.body.byMonth).toEqual([{ month: today().slice(0, 7), submitted: 3, grants: 3, approved: 4_500_000, disbursed: 3_500_000, returned: 0, reconciled: 2_000_000 }]);

    const empty = await t.http.get(`${API}/reports/summary?from=2000-01-01&to=2000-12-31`).set(w.finance.auth).expect(200);
    expect(empty.body.totals).toEqual({ approved: 0, disbursed: 0, returned: 0, reconciled: 0 });
    expect(empty.body.byMonth).toEqual([]);
  });

  // The board reads last month's report; a payment the bank returns this month must not rewrite it.
  it('keeps a payment in the month it was made when the bank returns it later; the return counts in its own month', async () => {
    const grant = await approvedGrant(t, w, { amount: 2_000_000 });
    const [tranche] = (await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(w.finance.auth).expect(200)).body.items;
    // The grant was approved two months ago (as the seed of a real history); paid 45 days ago.
    await t.dataSource.query(`UPDATE disbursements SET created_at = created_at - interval '60 days' WHERE id = $1`, [tranche.id]);
    const paidOn = shanghaiDay(-45);
    await t.http.post(`${API}/disbursements/${tranche.id}/pay`).set(w.finance.auth).send({ paidOn, bankReference: 'TRF-OLD' }).expect(200);
    const paidMonth = await t.http.get(`${API}/reports/summary?from=${paidOn.slice(0, 7)}-01&to=${paidOn}`).set(w.admin.auth).expect(200);
    expect(paidMonth.body.totals).toMatchObject({ disbursed: 2_000_000, returned: 0 });

    await t.http.post(`${API}/disbursements/${tranche.id}/return`).set(w.finance.auth).send({ reason: 'Account closed' }).expect(200);

    const again = await t.http.get(`${API}/reports/summary?from=${paidOn.slice(0, 7)}-01&to=${paidOn}`).set(w.admin.auth).expect(200);
    expect(again.body.totals).toEqual(paidMonth.body.totals);
    const thisMonth = await t.http.get(`${API}/reports/summary?from=${today().slice(0, 7)}-01&to=${today()}`).set(w.admin.auth).expect(200);
    expect(thisMonth.body.totals).toMatchObject({ disbursed: 0, returned: 2_000_000 });
    const allTime = await t.http.get(`${API}/reports/summary`).set(w.admin.auth).expect(200);
    expect(allTime.body.totals).toMatchObject({ disbursed: 2_000_000, returned: 2_000_000 });
    expect(allTime.body.totals.disbursed - allTime.body.totals.returned).toBe(allTime.body.fund.disbursed);
    expect(allTime.body.byMonth).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ month: paidOn.slice(0, 7), disbursed: 2_000_000, returned: 0 }),
        expect.objectContaining({ month: today().slice(0, 7), disbursed: 0, returned: 2_000_000 }),
      ]),
    );
  });

  it('dates events on the Shanghai calendar: 00:30 on the 1st in Shanghai is the new month, though still the 30th in UTC', async () => {
    const grant = await approvedGrant(t, w, { amount: 1_000_000 });
    const [tranche] = (await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(w.finance.auth).expect(200)).body.items;
    await t.http.post(`${API}/disbursements/${tranche.id}/pay`).set(w.finance.auth).send({ paidOn: today(), bankReference: 'TRF-B' }).expect(200);
    await t.dataSource.query(`UPDATE applications SET first_submitted_at = '2026-09-30T16:30:00Z' WHERE id = $1`, [grant.id]);
    await t.dataSource.query(`UPDATE disbursements SET status = 'reconciled', reconciled_at = '2026-09-30T16:30:00Z' WHERE id = $1`, [tranche.id]);

    const october = await t.http.get(`${API}/reports/summary?from=2026-10-01&to=2026-10-01`).set(w.admin.auth).expect(200);
    expect(october.body.byMonth).toEqual([{ month: '2026-10', submitted: 1, grants: 0, approved: 0, disbursed: 0, returned: 0, reconciled: 1_000_000 }]);
    const september = await t.http.get(`${API}/reports/summary?from=2026-09-01&to=2026-09-30`).set(w.admin.auth).expect(200);
    expect(september.body.byMonth).toEqual([]);
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
