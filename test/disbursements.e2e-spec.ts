import { parse } from 'csv-parse/sync';
import { randomUUID } from 'node:crypto';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { DEFAULT_MEANS_POLICY } from 'src/assessment/means-policy';
import { TranchesInPaymentFiles1763700016000 } from '../migrations/1763700016000-TranchesInPaymentFiles';
import { createDraftApplication } from 'test/support/application-factory';
import { createHospital, signedInUser, SignedIn } from 'test/support/factories';
import { approvedGrant, Grant, grantWorld, GrantWorld } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const today = () => todayIn(FUND_TIME_ZONE);

describe('Disbursements (e2e)', () => {
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
    w = await grantWorld(t, 100_000_000);
  });

  const fund = async () => (await t.http.get(`${API}/fund`).set(w.finance.auth).expect(200)).body as Record<string, number>;
  const tranchesOf = async (grant: Grant, who: SignedIn = w.finance) =>
    (await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(who.auth).expect(200)).body.items as Record<string, any>[];
  const pay = (id: string, body: object = { paidOn: today(), bankReference: `TRF-${randomUUID().slice(0, 8)}` }, key?: string, who: SignedIn = w.finance) => {
    const req = t.http.post(`${API}/disbursements/${id}/pay`).set(who.auth);
    return key === undefined ? req.send(body) : req.set('Idempotency-Key', key).send(body);
  };
  const appStatus = async (id: string) => ((await t.dataSource.query(`SELECT status FROM applications WHERE id = $1`, [id])) as { status: string }[])[0].status;
  const verifyLedger = async () => (await t.http.get(`${API}/fund/ledger/verify`).set(w.admin.auth).expect(200)).body;
  const expectIdentity = async () => {
    const f = await fund();
    expect(f.received).toBe(f.available + f.committed + f.disbursed);
    expect((await verifyLedger()).ok).toBe(true);
    return f;
  };
  const splitPolicy = async (ist: { label: string; share: string }[]) => {
    const policy = { ...DEFAULT_MEANS_POLICY, tranches: { ...DEFAULT_MEANS_POLICY.tranches, ist } };
    await t.http.put(`${API}/policies/means-assessment`).set(w.admin.auth).send(policy).expect(200);
  };

  it('pays a tranche: paid, committed → disbursed, application disbursing, family and hospital finance emailed, audited', async () => {
    const grant = await approvedGrant(t, w, { amount: 3_000_000 });
    expect(await fund()).toEqual({ received: 100_000_000, available: 97_000_000, committed: 3_000_000, disbursed: 0 });
    const [tranche] = await tranchesOf(grant);
    expect(tranche).toMatchObject({ reference: `${grant.reference}-1`, amount: 3_000_000, status: 'scheduled', currency: 'CNY', paidOn: null });
    // Invited to the hospital's finance office, not yet accepted: an address no one has proven gets no payment notices.
    const invitee = `invitee-${randomUUID().slice(0, 8)}@example.org`;
    await t.http.post(`${API}/users`).set(w.admin.auth).send({ email: invitee, fullName: 'Not Yet', role: 'hospital_finance', hospitalId: w.hospital.id }).expect(201);

    const res = await pay(tranche.id, { paidOn: today(), bankReference: 'ICBC-TRF-0042' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: tranche.id, status: 'paid', paidOn: today(), bankReference: 'ICBC-TRF-0042', amount: 3_000_000 });
    expect(await fund()).toEqual({ received: 100_000_000, available: 97_000_000, committed: 0, disbursed: 3_000_000 });
    expect(await appStatus(grant.id)).toBe('disbursing');
    await expectIdentity();

    const familyMail = await t.mail.waitFor((m) => m.to.includes(w.family.email) && m.text.includes(`${grant.reference}-1`));
    expect(familyMail.text).toContain('¥30,000.00');
    const hospitalMail = await t.mail.waitForMailTo(w.hospitalFinance.email);
    expect(hospitalMail.text).toContain(`${grant.reference}-1`);
    expect(hospitalMail.text).toContain('ICBC-TRF-0042');
    expect(hospitalMail.text).not.toContain('王小明');
    const [{ n: toInvitee }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE to_email = $1 AND template <> 'invitation'`, [invitee]);
    expect(toInvitee).toBe(0);
    // The hospital the notice is about goes with it: sending checks the officer still works there (recipientGone).
    const notices = await t.dataSource.query(`SELECT context->>'hospitalId' AS hospital FROM notifications WHERE template = 'tranche-paid-hospital'`);
    expect(notices).toEqual([{ hospital: w.hospital.id }]);

    const audit = await t.dataSource.query(`SELECT action FROM audit_events WHERE object_id = $1 OR object_id = $2 ORDER BY id`, [tranche.id, grant.id]);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(expect.arrayContaining(['fund.disbursed', 'application.disbursing', 'disbursement.paid']));
    // Everyone who may see the grant sees the tranche paid.
    expect((await tranchesOf(grant, w.family))[0].status).toBe('paid');
    expect((await tranchesOf(grant, w.hospitalFinance))[0].status).toBe('paid');
  });

  it('paying twice with different keys → 409, one payment, one ledger movement', async () => {
    const grant = await approvedGrant(t, w);
    const [tranche] = await tranchesOf(grant);
    await pay(tranche.id, undefined, 'key-1').expect(200);
    const second = await pay(tranche.id, undefined, 'key-2');
    expect(second.status).toBe(409);
    expect(second.headers['content-type']).toContain('application/problem+json');
    expect(second.body.type).toContain('disbursement-already-paid');
    await pay(tranche.id).expect(409);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM disbursement_payments WHERE disbursement_id = $1`, [tranche.id]);
    expect(n).toBe(1);
    const [{ m }] = await t.dataSource.query(`SELECT count(*)::int AS m FROM journal_transactions WHERE disbursement_id = $1 AND kind = 'payment'`, [tranche.id]);
    expect(m).toBe(1);
  });

  it('20 concurrent pays with one Idempotency-Key: exactly one payment; the others replay it or are told it is in flight', async () => {
    const grant = await approvedGrant(t, w, { amount: 4_000_000 });
    const [tranche] = await tranchesOf(grant);
    const body = { paidOn: today(), bankReference: 'ICBC-TRF-CONCURRENT' };
    const responses = await Promise.all(Array.from({ length: 20 }, () => pay(tranche.id, body, 'one-key')));
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    for (const r of responses.filter((x) => x.status === 200)) expect(r.body).toMatchObject({ id: tranche.id, status: 'paid', bankReference: 'ICBC-TRF-CONCURRENT' });
    for (const r of responses.filter((x) => x.status === 409)) expect(r.body.type).toMatch(/idempotency-request-in-flight|disbursement-already-paid/);

    const replay = await pay(tranche.id, body, 'one-key');
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM disbursement_payments WHERE disbursement_id = $1`, [tranche.id]);
    expect(n).toBe(1);
    expect(await fund()).toMatchObject({ committed: 0, disbursed: 4_000_000 });
    expect(await verifyLedger()).toMatchObject({ ok: true });

    // Same key, another body → 422.
    const reused = await pay(tranche.id, { ...body, bankReference: 'OTHER' }, 'one-key');
    expect(reused.status).toBe(422);
  });

  it('20 concurrent pays with different keys: one wins, 19 get 409', async () => {
    const grant = await approvedGrant(t, w);
    const [tranche] = await tranchesOf(grant);
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => pay(tranche.id, undefined, `k-${i}`)));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(19);
    await expectIdentity();
  });

  it('the database refuses a second live payment of a tranche even when the code is bypassed', async () => {
    const grant = await approvedGrant(t, w);
    const [tranche] = await tranchesOf(grant);
    await pay(tranche.id).expect(200);
    const [payment] = await t.dataSource.query(`SELECT * FROM disbursement_payments WHERE disbursement_id = $1`, [tranche.id]);
    await expect(
      t.dataSource.query(
        `INSERT INTO disbursement_payments (disbursement_id, amount, paid_on, bank_reference, paid_by, journal_transaction_id) VALUES ($1, $2, $3, 'X', $4, $5)`,
        [tranche.id, payment.amount, '2026-01-01', w.finance.id, payment.journal_transaction_id],
      ),
    ).rejects.toMatchObject({ constraint: 'disbursement_payments_one_live_key' });
    await expect(t.dataSource.query(`UPDATE disbursement_payments SET amount = 1 WHERE id = $1`, [payment.id])).rejects.toThrow(/changes only once/);
    await expect(t.dataSource.query(`DELETE FROM disbursement_payments WHERE id = $1`, [payment.id])).rejects.toThrow();
  });

  it('validates the pay body and refuses other roles', async () => {
    const grant = await approvedGrant(t, w);
    const [tranche] = await tranchesOf(grant);
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    for (const body of [
      { paidOn: future, bankReference: 'X' },
      { paidOn: '2026-02-30', bankReference: 'X' },
      { paidOn: today() },
      { paidOn: today(), bankReference: 'X', amount: 1 },
      // Emailed to the hospital to find the transfer by: nothing invisible, nothing that reorders what follows.
      { paidOn: today(), bankReference: '\u202e\u200b' },
      { paidOn: today(), bankReference: 'ICBC\u200b-42' },
    ]) {
      const res = await pay(tranche.id, body);
      expect(res.status).toBe(400);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
    await pay(tranche.id, undefined, undefined, w.reviewer).expect(403);
    await pay(tranche.id, undefined, undefined, w.hospitalFinance).expect(403);
    await pay(tranche.id, undefined, undefined, w.admin).expect(403);
    await pay(randomUUID()).expect(404);
    await t.http.post(`${API}/disbursements/not-a-uuid/pay`).set(w.finance.auth).send({ paidOn: today(), bankReference: 'X' }).expect(400);
    expect((await tranchesOf(grant))[0].status).toBe('scheduled');
  });

  it('refuses a payment dated before the grant was approved (a mistyped year), naming paidOn; nothing moves', async () => {
    const grant = await approvedGrant(t, w);
    const [tranche] = await tranchesOf(grant);
    const before = await fund();
    // The approval's day in Shanghai, from the tranche itself (today() may already be the next day there).
    const [{ created_at: approvedAt }] = await t.dataSource.query(`SELECT created_at FROM disbursements WHERE id = $1`, [tranche.id]);
    const approvedOn = todayIn(FUND_TIME_ZONE, new Date(approvedAt));
    const dayBefore = new Date(Date.parse(`${approvedOn}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    for (const paidOn of [dayBefore, `${Number(approvedOn.slice(0, 4)) - 1}-06-15`]) {
      const res = await pay(tranche.id, { paidOn, bankReference: 'TYPO' });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'paidOn', message: `must not be before ${approvedOn}, the day the grant was approved (Asia/Shanghai)` }]);
    }
    expect((await tranchesOf(grant))[0].status).toBe('scheduled');
    expect(await fund()).toEqual(before);
    await pay(tranche.id, { paidOn: today(), bankReference: 'ON-THE-DAY' }).expect(200);
  });

  it('splits by the policy; the second paid tranche leaves the application disbursing', async () => {
    await splitPolicy([{ label: 'admission', share: '0.6' }, { label: 'after', share: '0.4' }]);
    const grant = await approvedGrant(t, w, { amount: 3_333_333, treatmentPlan: 'ist' });
    const tranches = await tranchesOf(grant);
    expect(tranches.map((d) => [d.reference, d.label, d.amount, d.trancheNumber, d.trancheCount])).toEqual([
      [`${grant.reference}-1`, 'admission', 2_000_000, 1, 2],
      [`${grant.reference}-2`, 'after', 1_333_333, 2, 2],
    ]);
    await pay(tranches[1].id).expect(200);
    expect(await appStatus(grant.id)).toBe('disbursing');
    await pay(tranches[0].id).expect(200);
    expect(await appStatus(grant.id)).toBe('disbursing');
    expect(await fund()).toMatchObject({ committed: 0, disbursed: 3_333_333 });
  });

  it('cancels a returned tranche alone, as cancelling the grant would: its amount, back with the fund, is available again', async () => {
    await splitPolicy([{ label: 'a', share: '0.5' }, { label: 'b', share: '0.5' }]);
    const grant = await approvedGrant(t, w, { amount: 2_000_000, treatmentPlan: 'ist' });
    const [first, second] = await tranchesOf(grant);
    await pay(first.id).expect(200);
    await pay(second.id).expect(200);
    await t.http.post(`${API}/disbursements/${second.id}/return`).set(w.finance.auth).send({ reason: 'Account closed' }).expect(200);
    const res = await t.http.post(`${API}/disbursements/${second.id}/cancel`).set(w.finance.auth).send({ reason: 'Treatment ended early' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'cancelled', cancelReason: 'Treatment ended early' });
    expect(await fund()).toEqual({ received: 100_000_000, available: 100_000_000 - first.amount, committed: 0, disbursed: first.amount });
    expect(await appStatus(grant.id)).toBe('disbursing'); // the first tranche is paid, not yet reconciled
    await expectIdentity();
    expect((await verifyLedger()).ok).toBe(true);
  });

  it('cancels a scheduled tranche: its amount returns to available; a paid tranche cannot be cancelled', async () => {
    await splitPolicy([{ label: 'a', share: '0.5' }, { label: 'b', share: '0.5' }]);
    const grant = await approvedGrant(t, w, { amount: 2_000_001, treatmentPlan: 'ist' });
    const [first, second] = await tranchesOf(grant);
    await pay(first.id).expect(200);
    const cancel = (id: string, body: object = { reason: 'Second phase not needed' }, who = w.finance) =>
      t.http.post(`${API}/disbursements/${id}/cancel`).set(who.auth).send(body);
    await cancel(second.id, {}).expect(400);
    // Emailed to the family as written: a reason they could not see (zero-width, a C1 control) is no reason.
    await cancel(second.id, { reason: '\u200b' }).expect(400);
    await cancel(second.id, { reason: 'moved\u0085' }).expect(400);
    // 1,001 characters as PostgreSQL counts them (an emoji's variation selector is one): 400 naming it, not the CHECK's 500.
    const tooLong = await cancel(second.id, { reason: `${'a'.repeat(999)}\u2764\ufe0f` });
    expect([tooLong.status, tooLong.body.errors]).toEqual([400, [expect.objectContaining({ field: 'reason' })]]);
    await cancel(second.id, undefined, w.hospitalFinance).expect(403);
    const res = await cancel(second.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'cancelled', cancelReason: 'Second phase not needed' });
    // The reason is written for the family; hospital finance sees that the tranche was cancelled, and when.
    const seenByHospital = await t.http.get(`${API}/disbursements/${second.id}`).set(w.hospitalFinance.auth).expect(200);
    expect(seenByHospital.body).toMatchObject({ status: 'cancelled', cancelledAt: res.body.cancelledAt, cancelReason: null });
    const listedForHospital = (await tranchesOf(grant, w.hospitalFinance)).find((d) => d.id === second.id);
    expect(listedForHospital).toMatchObject({ status: 'cancelled', cancelReason: null });
    expect((await t.http.get(`${API}/disbursements/${second.id}`).set(w.finance.auth).expect(200)).body.cancelReason).toBe('Second phase not needed');
    expect(await fund()).toEqual({ received: 100_000_000, available: 100_000_000 - first.amount, committed: 0, disbursed: first.amount });
    await cancel(second.id).expect(409);
    const paidCancel = await cancel(first.id, undefined, w.admin);
    expect(paidCancel.status).toBe(409);
    expect(paidCancel.body.currentStatus).toBe('paid');
    await pay(second.id).expect(409);
    await expectIdentity();
  });

  it('cancelling every tranche one by one cancels the grant, approved or disbursing; one left live keeps it', async () => {
    await splitPolicy([{ label: 'a', share: '0.5' }, { label: 'b', share: '0.5' }]);
    const cancel = (id: string) => t.http.post(`${API}/disbursements/${id}/cancel`).set(w.finance.auth).send({ reason: 'Treatment funded by the province' });
    const history = async (id: string) =>
      ((await t.dataSource.query(`SELECT action FROM audit_events WHERE object_type = 'application' AND object_id = $1 ORDER BY id`, [id])) as { action: string }[]).map((r) => r.action);

    // Approved, nothing paid: the first cancel leaves a tranche to pay, the second leaves nothing.
    const approved = await approvedGrant(t, w, { amount: 2_000_000, treatmentPlan: 'ist' });
    const [a1, a2] = await tranchesOf(approved);
    await cancel(a1.id).expect(200);
    expect(await appStatus(approved.id)).toBe('approved');
    await cancel(a2.id).expect(200);
    expect(await appStatus(approved.id)).toBe('cancelled');
    expect((await history(approved.id)).filter((a) => a === 'application.cancelled')).toHaveLength(1);
    await t.http.post(`${API}/applications/${approved.id}/cancel`).set(w.finance.auth).send({ reason: 'again' }).expect(409);
    // The family heard of the first tranche, then that the grant is cancelled (not that "the rest of your grant is
    // not changed"); hospital finance of both tranches.
    const emails = async (app: { reference: string }, to: string) =>
      ((await t.dataSource.query(
        `SELECT template, event, context->>'cancelledAmount' AS cancelled, context->>'paidAmount' AS paid FROM notifications
          WHERE to_email = $1 AND context->>'reference' = $2 AND template LIKE '%cancelled%' ORDER BY created_at, id`,
        [to, app.reference],
      )) as Record<string, string | null>[]);
    expect(await emails(approved, w.family.email)).toEqual([
      { template: 'tranche-cancelled', event: 'disbursement.cancelled', cancelled: null, paid: null },
      { template: 'grant-cancelled', event: 'application.cancelled', cancelled: String(a2.amount), paid: '0' },
    ]);

    // Disbursing: the paid tranche came back, was rescheduled and then cancelled with the other one.
    const disbursing = await approvedGrant(t, w, { amount: 2_000_000, treatmentPlan: 'ist' });
    const [d1, d2] = await tranchesOf(disbursing);
    await pay(d1.id).expect(200);
    await t.http.post(`${API}/disbursements/${d1.id}/return`).set(w.finance.auth).send({ reason: 'Account closed' }).expect(200);
    await t.http.post(`${API}/disbursements/${d1.id}/reschedule`).set(w.finance.auth).send({}).expect(200);
    await cancel(d2.id).expect(200);
    expect(await appStatus(disbursing.id)).toBe('disbursing');
    await cancel(d1.id).expect(200);
    expect(await appStatus(disbursing.id)).toBe('cancelled');
    expect((await emails(disbursing, w.family.email)).map((e) => e.template)).toEqual(['tranche-cancelled', 'grant-cancelled']);
    expect(await fund()).toEqual({ received: 100_000_000, available: 100_000_000, committed: 0, disbursed: 0 });
    await expectIdentity();
  });

  it('return path: paid → returned (disbursed → committed) → rescheduled to the corrected account → paid again', async () => {
    const grant = await approvedGrant(t, w, { amount: 1_500_000 });
    const [tranche] = await tranchesOf(grant);
    await pay(tranche.id, { paidOn: today(), bankReference: 'FIRST' }).expect(200);
    const ret = (body: object = { reason: 'Account closed' }, who = w.finance) => t.http.post(`${API}/disbursements/${tranche.id}/return`).set(who.auth).send(body);
    await ret(undefined, w.admin).expect(403);
    const returned = await ret();
    expect(returned.status).toBe(200);
    expect(returned.body).toMatchObject({ status: 'returned', paidOn: null, bankReference: null });
    // The family was told it was paid, and hospital finance to expect it: both hear it came back (the reason, about the
    // hospital's account, only the hospital).
    const returnMails = await t.dataSource.query(
      `SELECT template, to_email, context FROM notifications WHERE event = 'disbursement.returned' ORDER BY template`,
    );
    expect(returnMails).toEqual([
      { template: 'tranche-returned', to_email: w.family.email, context: expect.objectContaining({ trancheReference: tranche.reference, paidOn: today(), returnedOn: today(), payAgain: true }) },
      {
        template: 'tranche-returned-hospital',
        to_email: w.hospitalFinance.email,
        context: expect.objectContaining({ hospitalId: w.hospital.id, bankReference: 'FIRST', reason: 'Account closed', payAgain: true }),
      },
    ]);
    expect(returnMails[0].context).not.toHaveProperty('reason');
    const familyMail = await t.mail.waitFor((m) => m.to.includes(w.family.email) && m.text.includes('The bank returned to the fund the payment'));
    expect(familyMail.text).toContain('will send the payment again');
    expect(familyMail.text).not.toContain('did not reach'); // it may have reached it: a bank reverses a credit too
    expect(familyMail.text).not.toContain('Account closed');
    expect(await fund()).toEqual({ received: 100_000_000, available: 98_500_000, committed: 1_500_000, disbursed: 0 });
    await ret().expect(409);
    await pay(tranche.id).expect(409); // a returned tranche is scheduled again first

    await t.http.patch(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).send({ bankAccount: { bankName: 'Bank of China', accountName: 'Hospital corrected', accountNumber: '99990000111122223333' } }).expect(200);
    const rescheduled = await t.http.post(`${API}/disbursements/${tranche.id}/reschedule`).set(w.finance.auth).send({});
    expect(rescheduled.status).toBe(200);
    expect(rescheduled.body).toMatchObject({ status: 'scheduled', payee: { bankName: 'Bank of China', accountName: 'Hospital corrected', accountNumber: '99990000111122223333' } });

    const again = await pay(tranche.id, { paidOn: today(), bankReference: 'SECOND' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'paid', bankReference: 'SECOND' });
    const payments = await t.dataSource.query(`SELECT bank_reference, returned_at IS NOT NULL AS returned FROM disbursement_payments WHERE disbursement_id = $1 ORDER BY created_at`, [tranche.id]);
    expect(payments).toEqual([{ bank_reference: 'FIRST', returned: true }, { bank_reference: 'SECOND', returned: false }]);
    expect(await expectIdentity()).toEqual({ received: 100_000_000, available: 98_500_000, committed: 0, disbursed: 1_500_000 });

    // The application's history tells the money's story too, though those events are recorded against the tranche.
    for (const who of [w.admin, w.family]) {
      const items = (await t.http.get(`${API}/applications/${grant.id}/history`).query({ limit: 100 }).set(who.auth).expect(200)).body.items as { action: string }[];
      const actions = items.map((e) => e.action);
      expect(actions.filter((a) => a.startsWith('disbursement.'))).toEqual(['disbursement.paid', 'disbursement.returned', 'disbursement.rescheduled', 'disbursement.paid']);
      expect(actions.indexOf('application.approved')).toBeLessThan(actions.indexOf('disbursement.paid'));
    }
  });

  it('paying a returned tranche again refuses a date before the return (naming paidOn); the reschedule records a changed account holder', async () => {
    const grant = await approvedGrant(t, w, { amount: 1_500_000 });
    const [tranche] = await tranchesOf(grant);
    // Approved ten days ago (Shanghai), paid eight days ago, returned today.
    await t.dataSource.query(`UPDATE disbursements SET created_at = created_at - interval '10 days' WHERE id = $1`, [tranche.id]);
    const daysAgo = (n: number) => todayIn(FUND_TIME_ZONE, new Date(Date.now() - n * 86_400_000));
    await pay(tranche.id, { paidOn: daysAgo(8), bankReference: 'FIRST' }).expect(200);
    await t.http.post(`${API}/disbursements/${tranche.id}/return`).set(w.finance.auth).send({ reason: 'Account holder name wrong' }).expect(200);
    const [{ returned_at: returnedAt }] = await t.dataSource.query(`SELECT returned_at FROM disbursement_payments WHERE disbursement_id = $1`, [tranche.id]);
    const returnedOn = todayIn(FUND_TIME_ZONE, new Date(returnedAt));

    // Only the account holder's name was wrong.
    const hospital = (await t.http.get(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).expect(200)).body;
    await t.http.patch(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).send({ bankAccount: { ...hospital.bankAccount, accountName: 'Corrected Holder' } }).expect(200);
    await t.http.post(`${API}/disbursements/${tranche.id}/reschedule`).set(w.finance.auth).send({}).expect(200);
    const [event] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action = 'disbursement.rescheduled'`, [tranche.id]);
    expect(event.summary).toMatchObject({
      payeeChanged: true,
      payeeChangedFields: ['accountName'],
      previousPayee: { accountName: hospital.bankAccount.accountName },
      payee: { accountName: 'Corrected Holder', accountNumber: hospital.bankAccount.accountNumber },
    });

    const before = await fund();
    const backdated = await pay(tranche.id, { paidOn: daysAgo(5), bankReference: 'TYPO' });
    expect(backdated.status).toBe(400);
    expect(backdated.body.errors).toEqual([{ field: 'paidOn', message: `must not be before ${returnedOn}, the day the previous payment was returned (Asia/Shanghai)` }]);
    expect(await fund()).toEqual(before);
    await pay(tranche.id, { paidOn: returnedOn, bankReference: 'SECOND' }).expect(200);
  });

  it("a return's default day is the database's day, the one its returned_at is written with, whatever the api's clock says", async () => {
    const grant = await approvedGrant(t, w, { amount: 1_500_000 });
    const [tranche] = await tranchesOf(grant);
    await t.dataSource.query(`UPDATE disbursements SET created_at = created_at - interval '10 days' WHERE id = $1`, [tranche.id]);
    await pay(tranche.id, { paidOn: todayIn(FUND_TIME_ZONE, new Date(Date.now() - 5 * 86_400_000)), bankReference: 'FIRST' }).expect(200);
    // The api's clock a day behind the database's (only Date is faked; timers run as they do).
    const timers = ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] as const;
    jest.useFakeTimers({ now: Date.now() - 86_400_000, doNotFake: [...timers] });
    try {
      await t.http.post(`${API}/disbursements/${tranche.id}/return`).set(w.finance.auth).send({ reason: 'Account closed' }).expect(200);
    } finally {
      jest.useRealTimers();
    }
    const [row] = await t.dataSource.query(
      `SELECT returned_on::text AS returned_on, (returned_at AT TIME ZONE '${FUND_TIME_ZONE}')::date::text AS returned_at_day FROM disbursement_payments WHERE disbursement_id = $1`,
      [tranche.id],
    );
    expect(row.returned_on).toBe(row.returned_at_day);
  });

  it('a return recorded days late states the day the bank returned it: a payment made again dates from then, the report counts it then', async () => {
    const grant = await approvedGrant(t, w, { amount: 1_500_000 });
    const [tranche] = await tranchesOf(grant);
    await t.dataSource.query(`UPDATE disbursements SET created_at = created_at - interval '10 days' WHERE id = $1`, [tranche.id]);
    const daysAgo = (n: number) => todayIn(FUND_TIME_ZONE, new Date(Date.now() - n * 86_400_000));
    await pay(tranche.id, { paidOn: daysAgo(8), bankReference: 'FIRST' }).expect(200);
    const ret = (body: object) => t.http.post(`${API}/disbursements/${tranche.id}/return`).set(w.finance.auth).send(body);
    for (const [returnedOn, message] of [
      [daysAgo(9), `must not be before ${daysAgo(8)}, the day the payment was made (Asia/Shanghai)`],
      [daysAgo(-1), expect.stringContaining('cannot be in the future')],
      ['2026-02-30', expect.stringContaining('real date')],
    ]) {
      const refused = await ret({ reason: 'Account closed', returnedOn });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([{ field: 'returnedOn', message }]);
    }
    expect(await fund()).toMatchObject({ committed: 0, disbursed: 1_500_000 }); // nothing moved on a refusal

    // Returned by the bank six days ago; re-sent to the corrected account the same day; all recorded today.
    await ret({ reason: 'Account closed', returnedOn: daysAgo(6) }).expect(200);
    const [event] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action = 'disbursement.returned'`, [tranche.id]);
    expect(event.summary.returnedOn).toBe(daysAgo(6));
    await t.http.post(`${API}/disbursements/${tranche.id}/reschedule`).set(w.finance.auth).send({}).expect(200);
    const early = await pay(tranche.id, { paidOn: daysAgo(7), bankReference: 'TOO-EARLY' });
    expect(early.body.errors).toEqual([{ field: 'paidOn', message: `must not be before ${daysAgo(6)}, the day the previous payment was returned (Asia/Shanghai)` }]);
    await pay(tranche.id, { paidOn: daysAgo(6), bankReference: 'SECOND' }).expect(200);

    const day = daysAgo(6);
    const report = (await t.http.get(`${API}/reports/summary`).query({ from: day, to: day }).set(w.admin.auth).expect(200)).body;
    expect(report.totals).toMatchObject({ disbursed: 1_500_000, returned: 1_500_000 });
  });

  it("after an admin corrects the hospital's account, fund finance moves a scheduled tranche to it (repoint); audited, and not past a payment file unasked", async () => {
    const grant = await approvedGrant(t, w);
    const [tranche] = await tranchesOf(grant);
    const hospital = (await t.http.get(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).expect(200)).body;
    const corrected = { ...hospital.bankAccount, accountNumber: '9559980012345678' };
    await t.http.patch(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).send({ bankAccount: corrected }).expect(200);
    // The admin's audit event says how many scheduled tranches still pay into the previous account.
    const [edit] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action = 'hospital.updated'`, [w.hospital.id]);
    expect(edit.summary.changes.bankAccount).toMatchObject({ from: hospital.bankAccount, to: corrected, scheduledTranchesOnOtherAccounts: 1 });
    expect((await tranchesOf(grant))[0].payee).toEqual(hospital.bankAccount); // not redirected by the edit alone

    const repoint = (body: object = {}, who = w.finance) => t.http.post(`${API}/disbursements/${tranche.id}/repoint`).set(who.auth).send(body);
    expect((await repoint({}, w.admin)).status).toBe(403);
    expect((await repoint({}, w.hospitalFinance)).status).toBe(403);
    const moved = await repoint();
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ status: 'scheduled', payee: corrected });
    const again = await repoint();
    expect(again.status).toBe(409);
    expect(again.body.type).toContain('payee-unchanged');
    const [event] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action = 'disbursement.repointed'`, [tranche.id]);
    expect(event.summary).toMatchObject({ payeeChangedFields: ['accountNumber'], previousPayee: hospital.bankAccount, payee: corrected });

    // In a payment file: the bank's word first.
    await t.http.get(`${API}/disbursements/export`).set(w.finance.auth).expect(200);
    const third = { ...corrected, accountNumber: '6228480012345678' };
    await t.http.patch(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).send({ bankAccount: third }).expect(200);
    const inFile = await repoint();
    expect(inFile.status).toBe(409);
    expect(inFile.body.type).toContain('tranche-in-payment-file');
    const confirmed = await repoint({ notSentToBank: true });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ payee: third, exportedAt: null });
    // The event names when the file went out (a date): hashed as stored, the chain still verifies.
    expect((await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200)).body).toMatchObject({ ok: true });
    // Only scheduled tranches move: a paid one is where the money went, whatever the hospital's account is now.
    await pay(tranche.id).expect(200);
    await t.http.patch(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).send({ bankAccount: corrected }).expect(200);
    const paid = await repoint();
    expect(paid.status).toBe(409);
    expect(paid.body.type).not.toContain('payee-unchanged');
    expect(paid.body.detail).toContain('paid');
  });

  it('a scheduled tranche keeps the bank account it was scheduled with when the hospital is edited', async () => {
    const grant = await approvedGrant(t, w);
    const before = (await tranchesOf(grant))[0].payee;
    await t.http.patch(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).send({ bankAccount: { bankName: 'Other', accountName: 'Other', accountNumber: '11112222333344445555' } }).expect(200);
    expect((await tranchesOf(grant))[0].payee).toEqual(before);
  });

  it('cancels a grant: unpaid tranches cancelled and released, paid stays paid; a later return releases it too', async () => {
    await splitPolicy([{ label: 'a', share: '0.5' }, { label: 'b', share: '0.5' }]);
    const grant = await approvedGrant(t, w, { amount: 2_000_000, treatmentPlan: 'ist' });
    const [first] = await tranchesOf(grant);
    await pay(first.id).expect(200);
    const cancelApp = (body: object = { reason: 'Family moved abroad' }, who = w.finance) => t.http.post(`${API}/applications/${grant.id}/cancel`).set(who.auth).send(body);
    await cancelApp({}).expect(400);
    await cancelApp(undefined, w.reviewer).expect(403);
    const res = await cancelApp();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: grant.id, status: 'cancelled', released: 1_000_000 });
    expect(res.body.disbursements.map((d: { status: string }) => d.status)).toEqual(['paid', 'cancelled']);
    expect(await appStatus(grant.id)).toBe('cancelled');
    expect(await fund()).toEqual({ received: 100_000_000, available: 99_000_000, committed: 0, disbursed: 1_000_000 });
    await cancelApp().expect(409);

    const ret = await t.http.post(`${API}/disbursements/${first.id}/return`).set(w.finance.auth).send({ reason: 'Rejected by the hospital bank' });
    expect(ret.status).toBe(200);
    expect(ret.body.status).toBe('cancelled');
    // The family reads why the tranche is cancelled; the bank's reason is about the hospital's account, not theirs.
    const seenByFamily = (await tranchesOf(grant, w.family)).find((d) => d.id === first.id);
    expect(seenByFamily).toMatchObject({ status: 'cancelled', cancelReason: '资助取消后，这笔付款被银行退回。Returned by the bank after the grant was cancelled.' });
    const payAgain = await t.dataSource.query(`SELECT template, context->>'payAgain' AS again FROM notifications WHERE event = 'disbursement.returned' ORDER BY template`);
    expect(payAgain).toEqual([
      { template: 'tranche-returned', again: 'false' },
      { template: 'tranche-returned-hospital', again: 'false' },
    ]);
    expect(await expectIdentity()).toEqual({ received: 100_000_000, available: 100_000_000, committed: 0, disbursed: 0 });
  });

  it('cancels an approved grant with nothing paid: everything returns to available', async () => {
    const grant = await approvedGrant(t, w, { amount: 2_500_000 });
    const res = await t.http.post(`${API}/applications/${grant.id}/cancel`).set(w.admin.auth).set('Idempotency-Key', 'cancel-1').send({ reason: 'Duplicate grant' });
    expect(res.status).toBe(200);
    expect(res.body.released).toBe(2_500_000);
    const replay = await t.http.post(`${API}/applications/${grant.id}/cancel`).set(w.admin.auth).set('Idempotency-Key', 'cancel-1').send({ reason: 'Duplicate grant' });
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await expectIdentity()).toEqual({ received: 100_000_000, available: 100_000_000, committed: 0, disbursed: 0 });
    const [tranche] = await tranchesOf(grant);
    await pay(tranche.id).expect(409);
  });

  it('cancels a grant only from the version the caller read when it sends If-Match (409 version-conflict otherwise), like other application actions', async () => {
    const grant = await approvedGrant(t, w, { amount: 2_500_000 });
    const read = await t.http.get(`${API}/applications/${grant.id}`).set(w.finance.auth).expect(200);
    const version = read.body.version as number;
    const cancel = (ifMatch: string) => t.http.post(`${API}/applications/${grant.id}/cancel`).set(w.finance.auth).set('If-Match', ifMatch).send({ reason: 'Family moved abroad' });

    const stale = await cancel(`"${version - 1}"`);
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ type: 'https://sprout.example.org/problems/version-conflict', currentVersion: version });
    expect((await cancel('not-a-version')).status).toBe(400);
    expect(await appStatus(grant.id)).toBe('approved');
    expect((await tranchesOf(grant)).map((d) => d.status)).toEqual(['scheduled']);
    expect(await fund()).toMatchObject({ available: 97_500_000, committed: 2_500_000 });

    const res = await cancel(`"${version}"`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'cancelled', version: version + 1, released: 2_500_000 });
  });

  describe('cancellation emails', () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    type OutboxRow = { template: string; to_email: string; locale: string };
    const byRecipient = (rows: OutboxRow[]) => [...rows].sort((a, b) => (a.to_email < b.to_email ? -1 : a.to_email > b.to_email ? 1 : 0));
    const outbox = async (event: string) =>
      byRecipient((await t.dataSource.query(`SELECT template, to_email, locale FROM notifications WHERE event = $1`, [event])) as OutboxRow[]);
    const mailsTo = (email: string, subject: RegExp) => t.mail.to(email).filter((m) => subject.test(m.subject));

    it('a cancelled grant: the family is told once, in its language, what was paid, what will not be and why; each hospital finance user once; a replay or a refused cancel sends nothing', async () => {
      await splitPolicy([{ label: 'a', share: '0.5' }, { label: 'b', share: '0.5' }]);
      const grant = await approvedGrant(t, w, { amount: 2_000_000, treatmentPlan: 'ist' });
      const [first, second] = await tranchesOf(grant);
      await pay(first.id).expect(200);
      await t.dataSource.query(`UPDATE users SET locale = 'zh-CN' WHERE id = $1`, [w.family.id]);
      const hospitalFinanceZh = await signedInUser(t, 'hospital_finance', { hospitalId: w.hospital.id, locale: 'zh-CN' });
      const otherHospital = await createHospital(t, w.admin);
      const otherHospitalFinance = await signedInUser(t, 'hospital_finance', { hospitalId: otherHospital.id });

      const reason = 'The family has chosen treatment in another city & its fund pays it.';
      const cancel = (key: string) => t.http.post(`${API}/applications/${grant.id}/cancel`).set(w.finance.auth).set('Idempotency-Key', key).send({ reason });
      await cancel('cancel-grant-mail').expect(200);

      const familyMail = await t.mail.waitFor((m) => m.to.includes(w.family.email) && m.subject.includes('已取消'));
      expect(familyMail.subject).toBe(`您的资助 ${grant.reference} 已取消`);
      expect(familyMail.text).toContain('已支付给医院：¥10,000.00');
      expect(familyMail.text).toContain('不再支付：¥10,000.00');
      expect(familyMail.text).toContain(reason);
      expect(familyMail.html).toContain('The family has chosen treatment in another city &amp; its fund pays it.');
      expect(familyMail.text).toMatch(new RegExp(`https?://[^/\\s]+/applications/${grant.id}`));

      const hospitalMail = await t.mail.waitFor((m) => m.to.includes(w.hospitalFinance.email) && m.subject.includes('will not be made'));
      const [{ hospital }] = await t.dataSource.query(`SELECT context->>'hospitalId' AS hospital FROM notifications WHERE template = 'tranche-cancelled-hospital' LIMIT 1`);
      expect(hospital).toBe(w.hospital.id);
      expect(hospitalMail.subject).toMatch(/^A scheduled payment to .+ will not be made$/);
      expect(hospitalMail.text).toContain(`${second.reference}: ¥10,000.00`);
      expect(hospitalMail.text).not.toContain(first.reference);
      expect(hospitalMail.text).not.toContain('another city'); // the reason is for the family
      const hospitalMailZh = await t.mail.waitFor((m) => m.to.includes(hospitalFinanceZh.email) && m.subject.includes('不再汇至'));
      expect(hospitalMailZh.text).toContain(`${second.reference}：¥10,000.00`);

      const replay = await cancel('cancel-grant-mail');
      expect(replay.status).toBe(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      const refused = await cancel('cancel-grant-mail-again');
      expect(refused.status).toBe(409);

      expect(await outbox('application.cancelled')).toEqual(
        byRecipient([
          { template: 'grant-cancelled', to_email: w.family.email, locale: 'zh-CN' },
          { template: 'tranche-cancelled-hospital', to_email: w.hospitalFinance.email, locale: 'en' },
          { template: 'tranche-cancelled-hospital', to_email: hospitalFinanceZh.email, locale: 'zh-CN' },
        ]),
      );
      await sleep(500);
      expect(mailsTo(w.family.email, /已取消/)).toHaveLength(1);
      expect(mailsTo(w.hospitalFinance.email, /will not be made/)).toHaveLength(1);
      expect(mailsTo(hospitalFinanceZh.email, /不再汇至/)).toHaveLength(1);
      expect(t.mail.to(otherHospitalFinance.email)).toHaveLength(0);
    });

    it('a grant with every tranche already paid: the family is told, the hospital finance office has no payment to strike', async () => {
      const grant = await approvedGrant(t, w, { amount: 1_500_000 });
      const [tranche] = await tranchesOf(grant);
      await pay(tranche.id).expect(200);
      const res = await t.http.post(`${API}/applications/${grant.id}/cancel`).set(w.finance.auth).send({ reason: 'Treatment finished earlier than planned.' });
      expect(res.status).toBe(200);
      expect(res.body.released).toBe(0);
      const familyMail = await t.mail.waitFor((m) => m.to.includes(w.family.email) && m.subject.includes('cancelled'));
      expect(familyMail.text).toMatch(/Already paid to the hospital: ¥15,000\.00\n\s+No longer to be paid:\s+¥0\.00/);
      expect(await outbox('application.cancelled')).toEqual([{ template: 'grant-cancelled', to_email: w.family.email, locale: 'en' }]);
    });

    it('a cancelled tranche: the family and the hospital finance office are told once; a replay or a refused cancel sends nothing', async () => {
      await splitPolicy([{ label: 'a', share: '0.6' }, { label: 'b', share: '0.4' }]);
      const grant = await approvedGrant(t, w, { amount: 3_333_333, treatmentPlan: 'ist' });
      const [first, second] = await tranchesOf(grant);
      expect(second.amount).toBe(1_333_333);
      await pay(first.id).expect(200);
      const reason = 'The second phase is no longer needed.';
      const cancel = (id: string, key: string) => t.http.post(`${API}/disbursements/${id}/cancel`).set(w.finance.auth).set('Idempotency-Key', key).send({ reason });

      await cancel(second.id, 'cancel-tranche-mail').expect(200);
      const familyMail = await t.mail.waitFor((m) => m.to.includes(w.family.email) && m.subject.includes('will not be made'));
      expect(familyMail.subject).toBe(`A scheduled payment for your application ${grant.reference} will not be made`);
      expect(familyMail.text).toContain('¥13,333.33');
      expect(familyMail.text).toContain(`Payment reference: ${second.reference}`);
      expect(familyMail.text).toContain(grant.reference);
      expect(familyMail.text).toContain(reason);
      const hospitalMail = await t.mail.waitFor((m) => m.to.includes(w.hospitalFinance.email) && m.subject.includes('will not be made'));
      expect(hospitalMail.text).toContain(`${second.reference}: ¥13,333.33`);
      expect(hospitalMail.text).not.toContain(reason);

      const replay = await cancel(second.id, 'cancel-tranche-mail');
      expect(replay.status).toBe(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      await cancel(second.id, 'cancel-tranche-mail-again').expect(409); // already cancelled
      await cancel(first.id, 'cancel-paid-tranche').expect(409); // paid

      expect(await outbox('disbursement.cancelled')).toEqual(
        byRecipient([
          { template: 'tranche-cancelled', to_email: w.family.email, locale: 'en' },
          { template: 'tranche-cancelled-hospital', to_email: w.hospitalFinance.email, locale: 'en' },
        ]),
      );
      await sleep(500);
      expect(mailsTo(w.family.email, /will not be made/)).toHaveLength(1);
      expect(mailsTo(w.hospitalFinance.email, /will not be made/)).toHaveLength(1);
    });
  });

  it('an application not approved cannot be cancelled (409), another family’s not found', async () => {
    const draft = await createDraftApplication(t, w.family, w.hospital.id);
    const res = await t.http.post(`${API}/applications/${draft.id}/cancel`).set(w.finance.auth).send({ reason: 'x' });
    expect(res.status).toBe(404); // never submitted: not visible to staff
    await t.http.post(`${API}/applications/${randomUUID()}/cancel`).set(w.finance.auth).send({ reason: 'x' }).expect(404);
  });

  it('scopes reads: family its own, hospital finance its hospital (another → 404/403), lists filtered', async () => {
    const grant = await approvedGrant(t, w);
    const [tranche] = await tranchesOf(grant);
    const otherHospital = await createHospital(t, w.admin);
    const otherFinance = await signedInUser(t, 'hospital_finance', { hospitalId: otherHospital.id });
    const otherFamily = await signedInUser(t, 'applicant');

    await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(otherFamily.auth).expect(404);
    await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(otherFinance.auth).expect(404);
    await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(w.reviewer.auth).expect(200);
    // Where the money goes is for those who pay or check it, as GET /hospitals gives it: not the family, not reviewers.
    const payeeSeenBy = async (who: SignedIn) =>
      ((await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(who.auth).expect(200)).body.items as { payee?: unknown }[]).map((d) => d.payee !== undefined);
    expect(await payeeSeenBy(w.family)).toEqual([false]);
    expect(await payeeSeenBy(w.reviewer)).toEqual([false]);
    expect(await payeeSeenBy(w.hospitalFinance)).toEqual([true]);
    expect(await payeeSeenBy(w.finance)).toEqual([true]);
    await t.http.get(`${API}/disbursements/${tranche.id}`).set(otherFinance.auth).expect(404);
    await t.http.get(`${API}/disbursements/${tranche.id}`).set(w.hospitalFinance.auth).expect(200);

    const own = await t.http.get(`${API}/disbursements`).set(w.hospitalFinance.auth).expect(200);
    expect(own.body.items.map((d: { id: string }) => d.id)).toEqual([tranche.id]);
    expect((await t.http.get(`${API}/disbursements`).set(otherFinance.auth).expect(200)).body.items).toEqual([]);
    await t.http.get(`${API}/disbursements?hospitalId=${w.hospital.id}`).set(otherFinance.auth).expect(403);
    await t.http.get(`${API}/disbursements`).set(w.family.auth).expect(403);
    await t.http.get(`${API}/disbursements`).set(w.reviewer.auth).expect(403);

    const all = await t.http.get(`${API}/disbursements?status=scheduled&hospitalId=${w.hospital.id}`).set(w.finance.auth).expect(200);
    expect(all.body.items).toHaveLength(1);
    expect((await t.http.get(`${API}/disbursements?status=paid`).set(w.admin.auth).expect(200)).body.items).toEqual([]);
    await t.http.get(`${API}/disbursements?status=lost`).set(w.admin.auth).expect(400);
  });

  it('paginates the list by keyset without repeating or skipping', async () => {
    await splitPolicy([{ label: 'a', share: '0.25' }, { label: 'b', share: '0.25' }, { label: 'c', share: '0.25' }, { label: 'd', share: '0.25' }]);
    await approvedGrant(t, w, { amount: 1_000_000, treatmentPlan: 'ist' });
    const family2 = await signedInUser(t, 'applicant');
    await approvedGrant(t, { ...w, family: family2 }, { amount: 1_000_000, treatmentPlan: 'ist' });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { reference: string }[]; nextCursor: string | null } } = await t.http
        .get(`${API}/disbursements?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
        .set(w.finance.auth)
        .expect(200);
      seen.push(...res.body.items.map((d) => d.reference));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
  });

  it('exports scheduled tranches as a formula-safe CSV with amounts in yuan', async () => {
    const evil = await t.http
      .post(`${API}/hospitals`)
      .set(w.admin.auth)
      .send({ name: '=HYPERLINK("http://evil.example","点击"),儿童医院', code: `EV${randomUUID().slice(0, 4).toUpperCase()}`, bankAccount: { bankName: '+ICBC', accountName: '@finance', accountNumber: '6222021001234567811' } })
      .expect(201);
    const grant = await approvedGrant(t, { ...w, hospital: { id: evil.body.id } }, { amount: 1_234_567 });
    const paidGrant = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 100 });
    await pay((await tranchesOf(paidGrant))[0].id).expect(200);

    // A HEAD (a download manager's probe, curl -I) runs no GET handler: it would mark the tranches sent to the bank.
    const probe = await t.http.head(`${API}/disbursements/export?status=scheduled&format=csv`).set(w.finance.auth);
    expect(probe.status).toBe(404);
    const [marked] = await t.dataSource.query(
      `SELECT (SELECT count(*) FROM disbursements WHERE exported_at IS NOT NULL)::int AS exported,
              (SELECT count(*) FROM audit_events WHERE action = 'disbursements.exported')::int AS audited`,
    );
    expect(marked).toEqual({ exported: 0, audited: 0 });

    const res = await t.http.get(`${API}/disbursements/export?status=scheduled&format=csv`).set(w.finance.auth);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.headers['content-disposition']).toContain('attachment');
    const rows = parse(res.text) as string[][];
    expect(rows).toEqual([
      ['reference', 'hospital', 'bank_name', 'account_name', 'account_number', 'amount', 'currency'],
      [`${grant.reference}-1`, `'=HYPERLINK("http://evil.example","点击"),儿童医院`, "'+ICBC", "'@finance", '6222021001234567811', '12345.67', 'CNY'],
    ]);
    const paid = parse((await t.http.get(`${API}/disbursements/export?status=paid`).set(w.admin.auth).expect(200)).text) as string[][];
    expect(paid.slice(1).map((r) => r[5])).toEqual(['1.00']);
    await t.http.get(`${API}/disbursements/export?format=xlsx`).set(w.finance.auth).expect(400);
    await t.http.get(`${API}/disbursements/export`).set(w.hospitalFinance.auth).expect(403);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'disbursements.exported'`);
    expect(n).toBe(2);
  });

  it('a tranche that went out in a payment file is cancelled only with the bank\'s word (notSentToBank), tranche or grant', async () => {
    await splitPolicy([{ label: 'a', share: '0.5' }, { label: 'b', share: '0.5' }]);
    const grant = await approvedGrant(t, w, { amount: 2_000_000, treatmentPlan: 'ist' });
    const [first, second] = await tranchesOf(grant);
    expect(first.exportedAt).toBeNull();
    const file = await t.http.get(`${API}/disbursements/export`).set(w.finance.auth).expect(200);
    expect(file.text).toContain(first.reference);
    const [stamped] = await tranchesOf(grant);
    expect(stamped.exportedAt).toEqual(expect.any(String));
    const before = await fund();

    const cancel = (id: string, body: object) => t.http.post(`${API}/disbursements/${id}/cancel`).set(w.finance.auth).send(body);
    const refused = await cancel(first.id, { reason: 'Treatment changed' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: expect.stringContaining('tranche-in-payment-file'), references: [first.reference] });
    expect(refused.body.detail).toContain('notSentToBank');
    expect(await fund()).toEqual(before);
    expect((await tranchesOf(grant))[0].status).toBe('scheduled');
    const grantRefused = await t.http.post(`${API}/applications/${grant.id}/cancel`).set(w.finance.auth).send({ reason: 'Family withdrew' });
    expect(grantRefused.status).toBe(409);
    expect(grantRefused.body.references).toEqual([first.reference, second.reference]);

    // The bank confirms it stopped the file: the tranche is cancelled, and the audit event says on whose word.
    const confirmed = await cancel(first.id, { reason: 'Treatment changed', notSentToBank: true });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('cancelled');
    const [event] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action = 'disbursement.cancelled'`, [first.id]);
    expect(event.summary).toMatchObject({ notSentToBank: true, exportedAt: expect.any(String) });
    expect((await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200)).body).toMatchObject({ ok: true });
    const whole = await t.http.post(`${API}/applications/${grant.id}/cancel`).set(w.finance.auth).send({ reason: 'Family withdrew', notSentToBank: true });
    expect(whole.status).toBe(200);
    const [grantEvent] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action = 'application.cancelled'`, [grant.id]);
    expect(grantEvent.summary).toMatchObject({ notSentToBank: true, inPaymentFiles: [second.reference] });

    // A file of paid tranches is a report, not a payment file: nothing is stamped. The export's audit event counts
    // the tranches that had gone out in an earlier file already.
    const other = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 500_000 });
    await t.http.get(`${API}/disbursements/export?status=paid`).set(w.finance.auth).expect(200);
    expect((await tranchesOf(other))[0].exportedAt).toBeNull();
    await t.http.get(`${API}/disbursements/export`).set(w.finance.auth).expect(200);
    await t.http.get(`${API}/disbursements/export?alreadyExported=include`).set(w.finance.auth).expect(200);
    const exports = await t.dataSource.query(`SELECT summary FROM audit_events WHERE action = 'disbursements.exported' AND summary->>'status' = 'scheduled' ORDER BY id`);
    expect(exports.map((e: { summary: { count: number; previouslyExported: number } }) => [e.summary.count, e.summary.previouslyExported])).toEqual([[2, 0], [1, 0], [1, 1]]);

    // Returned by the bank and rescheduled, the tranche needs a new file: it is no longer "in a file".
    const [otherTranche] = await tranchesOf(other);
    await pay(otherTranche.id).expect(200);
    await t.http.post(`${API}/disbursements/${otherTranche.id}/return`).set(w.finance.auth).send({ reason: 'Account closed' }).expect(200);
    await t.http.post(`${API}/disbursements/${otherTranche.id}/reschedule`).set(w.finance.auth).send({}).expect(200);
    expect((await tranchesOf(other))[0].exportedAt).toBeNull();
    await cancel(otherTranche.id, { reason: 'No longer needed' }).expect(200);
  });

  it('a payment file leaves out the tranches already in an earlier file, unless asked to put them in again', async () => {
    const earlier = await approvedGrant(t, w, { amount: 500_000 });
    const [a] = await tranchesOf(earlier);
    const exportFile = (query = '') => t.http.get(`${API}/disbursements/export${query}`).set(w.finance.auth).expect(200);
    const counted = (res: { headers: Record<string, string> }) => [res.headers['already-exported-excluded'], res.headers['already-exported-included']];
    const first = await exportFile();
    expect(first.text).toContain(a.reference);
    expect(counted(first)).toEqual(['0', '0']);
    const [{ exportedAt: stampedA }] = await tranchesOf(earlier);
    expect(stampedA).toEqual(expect.any(String));

    // The next day's file: a is still scheduled (its payment not yet recorded) and must not be asked of the bank again.
    const later = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 600_000 });
    const [b] = await tranchesOf(later);
    const next = await exportFile();
    expect(next.text).toContain(b.reference);
    expect(next.text).not.toContain(a.reference);
    expect(counted(next)).toEqual(['1', '0']);
    expect((await tranchesOf(earlier))[0].exportedAt).toBe(stampedA); // left as the first file stamped it

    // Nothing new: an empty file (the header row), nothing stamped.
    const empty = await exportFile();
    expect(empty.text.trim().split('\r\n')).toHaveLength(1);
    expect(counted(empty)).toEqual(['2', '0']);

    // A file that never reached the bank is replaced on purpose: both tranches again, stamped anew.
    const again = await exportFile('?alreadyExported=include');
    expect(again.text).toContain(a.reference);
    expect(again.text).toContain(b.reference);
    expect(counted(again)).toEqual(['0', '2']);
    expect((await tranchesOf(earlier))[0].exportedAt).not.toBe(stampedA);
    const events = await t.dataSource.query(`SELECT summary FROM audit_events WHERE action = 'disbursements.exported' ORDER BY id`);
    expect(events.map((e: { summary: { count: number; alreadyExportedExcluded: number; previouslyExported?: number } }) => [e.summary.count, e.summary.alreadyExportedExcluded, e.summary.previouslyExported ?? null])).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 2, null],
      [2, 0, 2],
    ]);
    await t.http.get(`${API}/disbursements/export?alreadyExported=twice`).set(w.finance.auth).expect(400);
    await t.http.get(`${API}/disbursements/export?alreadyExported=`).set(w.finance.auth).expect(200); // sent empty: the default
  });

  it("keeps an admin whose conflict of interest bars them from a case from reading its tranches (403), as from its decisions", async () => {
    const grant = await approvedGrant(t, w, { amount: 500_000 });
    const [tranche] = await tranchesOf(grant);
    const barred = await signedInUser(t, 'admin');
    await t.http.post(`${API}/users/${barred.id}/conflicts`).set(w.admin.auth).send({ hospitalId: w.hospital.id }).expect(201);
    for (const path of [`/disbursements/${tranche.id}`, `/applications/${grant.id}/disbursements`]) {
      const res = await t.http.get(`${API}${path}`).set(barred.auth);
      expect([path, res.status, res.body.type]).toEqual([path, 403, expect.stringContaining('conflict-of-interest')]);
      await t.http.get(`${API}${path}`).set(w.admin.auth).expect(200);
    }
  });

  it('reissues one earlier payment file by its exportedAt, and only that file, without stamping it anew', async () => {
    const earlier = await approvedGrant(t, w, { amount: 500_000 });
    const [a] = await tranchesOf(earlier);
    const first = await t.http.get(`${API}/disbursements/export`).set(w.finance.auth).expect(200);
    const [{ exportedAt: firstFile }] = await tranchesOf(earlier);
    // The file says which it is: the stamp a reissue names, in a header and in its name.
    expect(first.headers['payment-file-exported-at']).toBe(firstFile);
    expect(first.headers['content-disposition']).toBe(`attachment; filename="sprout-payment-file-${firstFile.replace(/[:.]/g, '-')}.csv"`);
    const later = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 600_000 });
    const [b] = await tranchesOf(later);
    await t.http.get(`${API}/disbursements/export`).set(w.finance.auth).expect(200);

    // The first file never reached the bank: it again, not the second.
    const again = await t.http.get(`${API}/disbursements/export?reissue=${firstFile}`).set(w.finance.auth).expect(200);
    expect(again.text).toContain(a.reference);
    expect(again.text).not.toContain(b.reference);
    expect([again.headers['already-exported-excluded'], again.headers['already-exported-included']]).toEqual(['0', '1']);
    expect(again.headers['payment-file-exported-at']).toBe(firstFile);
    expect((await tranchesOf(earlier))[0].exportedAt).toBe(firstFile); // the same file: reissued again the same way
    const [event] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE action = 'disbursements.exported' ORDER BY id DESC LIMIT 1`);
    expect(event.summary).toMatchObject({ count: 1, reissueOf: firstFile });
    expect(event.summary).not.toHaveProperty('exportedAt');
    // A listing of tranches in another status is named as one: never to be taken for a file for the bank.
    const listing = await t.http.get(`${API}/disbursements/export?status=cancelled`).set(w.finance.auth).expect(200);
    expect(listing.headers['content-disposition']).toBe('attachment; filename="sprout-disbursements-cancelled-listing-not-for-the-bank.csv"');
    expect(listing.headers).not.toHaveProperty('payment-file-exported-at');

    const notAFile = await t.http.get(`${API}/disbursements/export?reissue=${firstFile}&status=paid`).set(w.finance.auth);
    expect(notAFile.status).toBe(400);
    expect(notAFile.body.errors).toEqual([expect.objectContaining({ field: 'reissue' })]);
    await t.http.get(`${API}/disbursements/export?reissue=yesterday`).set(w.finance.auth).expect(400);
    // ISO 8601's other spellings, and one without an offset (which instant it names would depend on the server): 400, not 500.
    for (const reissue of ['20261207T023000Z', '2026-W49-1', '2026-341', '2026-12-07T02Z', '2026-12-07T02:30:00', '2026-02-30T00:00:00Z']) {
      const res = await t.http.get(`${API}/disbursements/export`).query({ reissue }).set(w.finance.auth);
      expect([reissue, res.status, res.body.errors]).toEqual([reissue, 400, [expect.objectContaining({ field: 'reissue' })]]);
    }
    // The same instant in China time names the same file.
    const inChina = new Date(Date.parse(firstFile) + 8 * 3_600_000).toISOString().replace('Z', '+08:00');
    expect((await t.http.get(`${API}/disbursements/export`).query({ reissue: inChina }).set(w.finance.auth).expect(200)).text).toContain(a.reference);
    // No file was exported then: 404, and nothing is audited.
    const events = async () => (await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'disbursements.exported'`))[0].n as number;
    const before = await events();
    const none = await t.http.get(`${API}/disbursements/export`).query({ reissue: '2020-01-01T00:00:00.000Z' }).set(w.finance.auth);
    expect([none.status, none.body.type]).toEqual([404, expect.stringContaining('payment-file-not-found')]);
    expect(await events()).toBe(before);
    // Empty filters are filters left out, here as everywhere.
    await t.http.get(`${API}/disbursements/export?format=&outdatedPayees=&reissue=`).set(w.finance.auth).expect(200);
  });

  it('upgrading stamps the tranches that payment files exported before the stamp existed held (from the audit trail)', async () => {
    const before = await approvedGrant(t, w, { amount: 500_000 });
    const otherHospital = await createHospital(t, w.admin);
    const elsewhere = await approvedGrant(t, { ...w, hospital: otherHospital, family: await signedInUser(t, 'applicant') }, { amount: 600_000 });
    // A file limited to this hospital, then a tranche scheduled after it.
    await t.http.get(`${API}/disbursements/export?hospitalId=${w.hospital.id}`).set(w.finance.auth).expect(200);
    const after = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 700_000 });
    // The database as the last release left it: files in the audit trail, no stamps.
    await t.dataSource.query(`UPDATE disbursements SET exported_at = NULL`);
    await TranchesInPaymentFiles1763700016000.stampTranchesOfEarlierFiles(t.dataSource);
    const [{ occurred_at: fileAt }] = await t.dataSource.query(`SELECT occurred_at FROM audit_events WHERE action = 'disbursements.exported'`);
    expect((await tranchesOf(before))[0].exportedAt).toBe(new Date(fileAt).toISOString());
    expect((await tranchesOf(elsewhere))[0].exportedAt).toBeNull(); // not in that hospital's file
    expect((await tranchesOf(after))[0].exportedAt).toBeNull(); // scheduled after the file
  });

  it('lists the endpoints in the OpenAPI document', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    for (const path of ['/api/v1/disbursements', '/api/v1/disbursements/export', '/api/v1/disbursements/{id}/pay', '/api/v1/disbursements/{id}/cancel', '/api/v1/disbursements/{id}/return', '/api/v1/applications/{id}/disbursements', '/api/v1/applications/{id}/cancel']) {
      expect(doc.paths[path]).toBeDefined();
    }
  });
});
