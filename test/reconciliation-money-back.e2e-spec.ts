import { DEFAULT_MEANS_POLICY } from 'src/assessment/means-policy';
import { signedInUser } from 'test/support/factories';
import { approvedGrant, camt053, csvStatement, Grant, grantWorld, GrantWorld, payTranche, tranchesOf as grantTranches } from 'test/support/grant-factory';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
/** The tranches are paid today: a debit about them is booked today or later. */
const today = () => todayIn(FUND_TIME_ZONE);
const daysAgo = (days: number) => new Date(Date.parse(`${today()}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

/**
 * Money that goes back (a debit or a reversal naming paid tranches) keeps the tranches' credits from settling: with
 * several tranches named at once, and whichever of the two statements is imported first.
 */
describe('Reconciliation: money sent back (e2e)', () => {
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
    // Two equal tranches: settling both completes the grant.
    const policy = { ...DEFAULT_MEANS_POLICY, tranches: { ...DEFAULT_MEANS_POLICY.tranches, hsct: [{ label: 'a', share: '0.5' }, { label: 'b', share: '0.5' }] } };
    await t.http.put(`${API}/policies/means-assessment`).set(w.admin.auth).send(policy).expect(200);
  });

  const upload = (file: Buffer, name = 'statement.xml') =>
    t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).attach('file', file, { filename: name, contentType: 'application/octet-stream' });
  const items = async (statementId: string) =>
    (await t.http.get(`${API}/reconciliation/statements/${statementId}`).set(w.hospitalFinance.auth).expect(200)).body.items as Record<string, any>[];
  const status = async (table: 'disbursements' | 'applications', id: string) =>
    ((await t.dataSource.query(`SELECT status FROM ${table} WHERE id = $1`, [id])) as { status: string }[])[0].status;
  /** A grant of two tranches of 30,000.00 yuan, both paid. */
  /** The bank sends the tranche's payment back; fund finance records it, schedules the tranche again and pays it. */
  const returnAndPayAgain = async (trancheId: string) => {
    await t.http.post(`${API}/disbursements/${trancheId}/return`).set(w.finance.auth).send({ reason: 'Sent back by the bank' }).expect(200);
    await t.http.post(`${API}/disbursements/${trancheId}/reschedule`).set(w.finance.auth).send({}).expect(200);
    await payTranche(t, w, trancheId);
  };
  /**
   * The tranche's returned payment as made a week ago and returned six days ago, and its payment made again
   * `againDaysAgo` days ago: the API dates nothing before the approval, made today.
   */
  const backdatePayments = (disbursementId: string, againDaysAgo = 0) =>
    t.dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL session_replication_role = replica`);
      await tx.query(`UPDATE disbursement_payments SET paid_on = paid_on - 7, returned_on = paid_on - 6 WHERE disbursement_id = $1 AND returned_at IS NOT NULL`, [disbursementId]);
      await tx.query(`UPDATE disbursement_payments SET paid_on = paid_on - $2::int WHERE disbursement_id = $1 AND returned_at IS NULL`, [disbursementId, againDaysAgo]);
    });
  const bothPaid = async (): Promise<{ grant: Grant; first: Record<string, any>; second: Record<string, any> }> => {
    const grant = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 6_000_000 });
    const [first, second] = await grantTranches(t, w, grant);
    await payTranche(t, w, first.id);
    await payTranche(t, w, second.id);
    return { grant, first, second };
  };
  const exceptionMail = (statementId: string) => t.mail.waitFor((m) => m.to.includes(w.hospitalFinance.email) && m.text.includes(statementId));

  it('a reversal naming two paid tranches is an exception and holds back their credits of the same file', async () => {
    const { grant, first, second } = await bothPaid();
    const res = await upload(camt053([
      { amount: '60000.00', accountServicerReference: 'BATCH-1', transfers: [{ amount: '30000.00', remittance: first.reference }, { amount: '30000.00', remittance: second.reference }] },
      { amount: '60000.00', creditDebit: 'DBIT', reversal: true, remittance: `Reversal of ${first.reference} ${second.reference}`, accountServicerReference: 'RV-1' },
    ]));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ entries: 3, matched: 0, mismatched: 3, ignored: 0 });
    const [c1, c2, reversal] = await items(res.body.id);
    expect(c1).toMatchObject({ status: 'mismatched', disbursementId: first.id, reason: expect.stringContaining('names the same disbursement') });
    expect(c2).toMatchObject({ status: 'mismatched', disbursementId: second.id, reason: expect.stringContaining('names the same disbursement') });
    expect(reversal).toMatchObject({ status: 'mismatched', disbursementId: null, reference: null });
    expect(reversal.reason).toContain(first.reference);
    expect(reversal.reason).toContain(second.reference);
    expect([await status('disbursements', first.id), await status('disbursements', second.id)]).toEqual(['paid', 'paid']);
    expect(await status('applications', grant.id)).toBe('disbursing');
    expect((await exceptionMail(res.body.id)).text).toMatch(/another amount or money sent back:\s+3/);
  });

  it('a debit imported before the credit holds the credit back', async () => {
    const { grant, first, second } = await bothPaid();
    await upload(camt053([{ amount: '30000.00', accountServicerReference: 'OK-2', remittance: second.reference }])).expect(201);
    const debit = await upload(camt053([{ amount: '30000.00', creditDebit: 'DBIT', remittance: `Return ${first.reference}`, accountServicerReference: 'BACK-1', bookingDate: today() }]));
    expect(debit.body).toMatchObject({ entries: 1, mismatched: 1 });

    const credit = await upload(camt053([{ amount: '30000.00', remittance: first.reference, accountServicerReference: 'IN-1', bookingDate: '2026-09-15' }]));
    expect(credit.status).toBe(201);
    expect(credit.body).toMatchObject({ entries: 1, matched: 0, mismatched: 1 });
    expect((await items(credit.body.id))[0]).toMatchObject({ status: 'mismatched', disbursementId: first.id, reason: expect.stringContaining('sent back') });
    expect(await status('disbursements', first.id)).toBe('paid');
    expect(await status('applications', grant.id)).toBe('disbursing');
    expect((await exceptionMail(credit.body.id)).text).toMatch(/another amount or money sent back:\s+1/);
  });

  it("a bank's fee debited under a tranche's reference is no money sent back: an exception to look at, not holding the credit back", async () => {
    const { grant, first, second } = await bothPaid();
    const fee = await upload(camt053([{ amount: '2.00', creditDebit: 'DBIT', remittance: `汇入手续费 ${first.reference}`, accountServicerReference: 'FEE-1', bookingDate: today() }]));
    expect(fee.body).toMatchObject({ entries: 1, mismatched: 0, unmatched: 1, ignored: 0 });
    expect((await items(fee.body.id))[0]).toMatchObject({ status: 'unmatched', reference: first.reference, reason: expect.stringContaining('not the payment sent back') });
    const both = await upload(camt053([
      { amount: '30000.00', remittance: first.reference, accountServicerReference: 'IN-F1', bookingDate: today() },
      { amount: '3.00', creditDebit: 'DBIT', remittance: `手续费 ${second.reference}`, accountServicerReference: 'FEE-2', bookingDate: today() },
      { amount: '30000.00', remittance: second.reference, accountServicerReference: 'IN-F2', bookingDate: today() },
    ]));
    expect(both.body).toMatchObject({ entries: 3, matched: 2, mismatched: 0, unmatched: 1 });
    expect(await status('applications', grant.id)).toBe('completed');
  });

  it('a debit resolved as nothing to do with the tranche no longer holds its credit back', async () => {
    const { first, second } = await bothPaid();
    const debit = await upload(camt053([{ amount: '30000.00', creditDebit: 'DBIT', remittance: `Transfer out ${first.reference}`, accountServicerReference: 'OUT-1', bookingDate: today() }]));
    const [entry] = await items(debit.body.id);
    expect(entry.status).toBe('mismatched');
    await t.http.post(`${API}/reconciliation/entries/${entry.id}/resolve`).set(w.hospitalFinance.auth).send({ note: 'Our own transfer to a supplier; the text quoted the reference by mistake.' }).expect(200);
    const credits = await upload(camt053([
      { amount: '30000.00', remittance: first.reference, accountServicerReference: 'IN-R1', bookingDate: today() },
      { amount: '30000.00', remittance: second.reference, accountServicerReference: 'IN-R2', bookingDate: today() },
    ]));
    expect(credits.body).toMatchObject({ entries: 2, matched: 2, mismatched: 0 });
    // Reopening it now would not put the hold back on a tranche reconciled since: refused, saying what to do.
    const reopened = await t.http.post(`${API}/reconciliation/entries/${entry.id}/reopen`).set(w.hospitalFinance.auth);
    expect([reopened.status, reopened.body.type]).toEqual([409, expect.stringContaining('resolution-acted-on')]);
  });

  it('a debit naming two tranches, imported before their credits, holds both back', async () => {
    const { grant, first, second } = await bothPaid();
    const debit = await upload(csvStatement([{ amount: '-60000.00', remittance: `Return ${first.reference} and ${second.reference}`, bookingDate: today() }]), 'debit.csv');
    expect(debit.body).toMatchObject({ entries: 1, mismatched: 1 });
    const credits = await upload(csvStatement([{ amount: '30000.00', remittance: first.reference }, { amount: '30000.00', remittance: second.reference }]), 'credits.csv');
    expect(credits.body).toMatchObject({ entries: 2, matched: 0, mismatched: 2 });
    expect([await status('disbursements', first.id), await status('disbursements', second.id)]).toEqual(['paid', 'paid']);
    expect(await status('applications', grant.id)).toBe('disbursing');
  });

  it('a debit booked before the current payment, imported after it was paid again, does not hold that payment back', async () => {
    // The fund heard of the return from its own bank, recorded it and paid again; the hospital's statement with the
    // old debit comes in afterwards.
    const { grant, first, second } = await bothPaid();
    await upload(camt053([{ amount: '30000.00', remittance: second.reference, accountServicerReference: 'OK-2' }])).expect(201);
    await returnAndPayAgain(first.id);
    await backdatePayments(first.id, 1);
    const debit = await upload(camt053([{ amount: '30000.00', creditDebit: 'DBIT', remittance: `Return ${first.reference}`, accountServicerReference: 'BACK-OLD', bookingDate: daysAgo(6) }]));
    expect(debit.body).toMatchObject({ entries: 1, mismatched: 1 });

    const credit = await upload(camt053([{ amount: '30000.00', remittance: first.reference, accountServicerReference: 'IN-NEW', bookingDate: today() }]));
    expect(credit.body).toMatchObject({ entries: 1, matched: 1, mismatched: 0 });
    expect(await status('applications', grant.id)).toBe('completed');
  });

  it('a return and the payment made again in one file: no credit is called a double payment; the one that is the payment is matched by hand', async () => {
    const { grant, first, second } = await bothPaid();
    await upload(camt053([{ amount: '30000.00', remittance: second.reference, accountServicerReference: 'OK-2' }])).expect(201);
    await returnAndPayAgain(first.id);
    const day = await upload(camt053([
      { amount: '30000.00', remittance: first.reference, accountServicerReference: 'BOC-A', bookingDate: today() },
      { amount: '30000.00', creditDebit: 'DBIT', remittance: `RETURN ${first.reference}`, accountServicerReference: 'BOC-B', bookingDate: today() },
      { amount: '30000.00', remittance: first.reference, accountServicerReference: 'BOC-C', bookingDate: today() },
    ]));
    expect(day.body).toMatchObject({ entries: 3, matched: 0, mismatched: 3, duplicates: 0 });
    const [, , again] = await items(day.body.id);
    expect(again.reason).toContain('Match it by hand');
    const mail = await exceptionMail(day.body.id);
    expect(mail.text).toMatch(/\(possible double payment\):\s+0/);
    await t.http.post(`${API}/reconciliation/entries/${again.id}/match`).set(w.hospitalFinance.auth).send({ disbursementId: first.id }).expect(200);
    expect(await status('applications', grant.id)).toBe('completed');
  });

  it('a debit from before the tranche was returned and paid again does not hold back the new payment', async () => {
    const { grant, first, second } = await bothPaid();
    await upload(camt053([{ amount: '30000.00', remittance: second.reference, accountServicerReference: 'OK-2' }])).expect(201);
    await upload(camt053([{ amount: '30000.00', creditDebit: 'DBIT', remittance: `Return ${first.reference}`, accountServicerReference: 'BACK-1' }])).expect(201);
    await returnAndPayAgain(first.id);

    const credit = await upload(camt053([{ amount: '30000.00', remittance: first.reference, accountServicerReference: 'IN-2', bookingDate: today() }]));
    expect(credit.body).toMatchObject({ entries: 1, matched: 1, mismatched: 0 });
    expect(await status('disbursements', first.id)).toBe('reconciled');
    expect(await status('applications', grant.id)).toBe('completed');
  });

  it('a debit seen before the return was recorded does not hold back the payment made again, even all on one day; one imported after does', async () => {
    // Paid, sent back, returned and paid again the same day: the debit is booked on the day of the current payment too.
    const { grant, first, second } = await bothPaid();
    await upload(camt053([{ amount: '30000.00', remittance: second.reference, accountServicerReference: 'OK-2' }])).expect(201);
    const debit = await upload(camt053([{ amount: '30000.00', creditDebit: 'DBIT', remittance: `Return ${first.reference}`, accountServicerReference: 'BACK-1', bookingDate: today() }]));
    expect(debit.body).toMatchObject({ entries: 1, mismatched: 1 });
    await returnAndPayAgain(first.id);
    const credit = await upload(camt053([{ amount: '30000.00', remittance: first.reference, accountServicerReference: 'IN-2', bookingDate: today() }]));
    expect(credit.body).toMatchObject({ entries: 1, matched: 1, mismatched: 0 });
    expect(await status('applications', grant.id)).toBe('completed');

    // Named with another tranche (stored about neither), alike; and a debit imported after the return still holds back.
    const other = await bothPaid();
    const both = `Return ${other.first.reference} and ${other.second.reference}`;
    await upload(csvStatement([{ amount: '-60000.00', remittance: both, bookingDate: today() }]), 'debit.csv').expect(201);
    await returnAndPayAgain(other.first.id);
    await returnAndPayAgain(other.second.id);
    await upload(camt053([{ amount: '30000.00', creditDebit: 'DBIT', remittance: `Return ${other.second.reference}`, accountServicerReference: 'BACK-3', bookingDate: today() }])).expect(201);
    const credits = await upload(csvStatement([
      { amount: '30000.00', remittance: other.first.reference, bookingDate: today() },
      { amount: '30000.00', remittance: other.second.reference, bookingDate: today() },
    ]), 'credits.csv');
    expect((await items(credits.body.id)).map((e) => [e.reference, e.status])).toEqual([
      [other.first.reference, 'matched'],
      [other.second.reference, 'mismatched'],
    ]);
  });

  it('a credit booked before a returned tranche was paid again does not settle the new payment: unmatched, for a person', async () => {
    const { grant, first, second } = await bothPaid();
    await upload(camt053([{ amount: '30000.00', remittance: second.reference, accountServicerReference: 'OK-2' }])).expect(201);
    await returnAndPayAgain(first.id);
    await backdatePayments(first.id);
    const weekAgo = daysAgo(7);

    // The hospital's statement of that week comes in late: its credit is the returned payment's, not the new one's.
    const old = await upload(camt053([{ amount: '30000.00', remittance: first.reference, accountServicerReference: 'IN-OLD', bookingDate: weekAgo }]));
    expect(old.body).toMatchObject({ entries: 1, matched: 0, unmatched: 1 });
    expect((await items(old.body.id))[0]).toMatchObject({ status: 'unmatched', reference: first.reference, reason: expect.stringContaining(`paid again on ${today()}`) });
    expect(await status('disbursements', first.id)).toBe('paid');
    expect(await status('applications', grant.id)).toBe('disbursing');
    expect((await exceptionMail(old.body.id)).text).toMatch(/Reference found, but no payment of it to match:\s+1/);

    // The new payment's credit settles it.
    const credit = await upload(camt053([{ amount: '30000.00', remittance: first.reference, accountServicerReference: 'IN-NEW', bookingDate: today() }]));
    expect(credit.body).toMatchObject({ entries: 1, matched: 1 });
    expect(await status('applications', grant.id)).toBe('completed');
  });
});
