import { parse } from 'csv-parse/sync';
import { createHospital, signedInUser } from 'test/support/factories';
import { approvedGrant, Grant, grantWorld, GrantWorld, payTranche } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const CORRECTED = { bankName: 'Bank of China Shanghai', accountName: 'Hospital corrected', accountNumber: '9559980012345678' };

// An admin corrects a hospital's bank account; its scheduled tranches keep the old one until fund finance repoints them.
describe('Tranches whose payee is no longer the hospital’s account (e2e)', () => {
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

  const trancheOf = async (grant: Grant, who = w.finance) =>
    (await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(who.auth).expect(200)).body.items[0] as Record<string, any>;
  const list = async (query: string, who = w.finance) =>
    ((await t.http.get(`${API}/disbursements?${query}`).set(who.auth).expect(200)).body.items as { reference: string; payeeOutdated: boolean }[]).map((d) => [
      d.reference,
      d.payeeOutdated,
    ]);
  const correctAccount = (bankAccount = CORRECTED) => t.http.patch(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).send({ bankAccount });
  const exportFile = (query = '') => t.http.get(`${API}/disbursements/export${query}`).set(w.finance.auth);
  const exportEvents = async () =>
    ((await t.dataSource.query(`SELECT summary FROM audit_events WHERE action = 'disbursements.exported' ORDER BY id`)) as { summary: Record<string, unknown> }[]).map(
      (e) => e.summary,
    );

  /** Three grants: one scheduled and one paid at w.hospital, one scheduled at another hospital; then w.hospital's account is corrected. */
  async function corrected() {
    const scheduled = await approvedGrant(t, w, { amount: 1_000_000 });
    const paid = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 2_000_000 });
    await payTranche(t, w, (await trancheOf(paid)).id);
    const otherHospital = await createHospital(t, w.admin);
    const elsewhere = await approvedGrant(t, { ...w, hospital: otherHospital, family: await signedInUser(t, 'applicant') }, { amount: 3_000_000 });
    const previous = (await trancheOf(scheduled)).payee;
    const edit = await correctAccount();
    expect(edit.status).toBe(200);
    return { scheduled, paid, elsewhere, previous, edit };
  }

  it('the PATCH answer counts the scheduled tranches left on another account; paid tranches and other hospitals do not count', async () => {
    const { scheduled, previous, edit } = await corrected();
    expect(edit.body).toMatchObject({ id: w.hospital.id, bankAccount: CORRECTED, scheduledTranchesOnOtherAccounts: 1 });
    // A later edit of the name still tells the admin; putting the old account back leaves none on another.
    const renamed = await t.http.patch(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).send({ name: 'Renamed' }).expect(200);
    expect(renamed.body.scheduledTranchesOnOtherAccounts).toBe(1);
    expect((await correctAccount(previous).expect(200)).body.scheduledTranchesOnOtherAccounts).toBe(0);
    expect((await trancheOf(scheduled)).payeeOutdated).toBe(false);
  });

  it('emails fund finance, who alone can repoint, the tranches a changed account left behind; not for a rename, nor when none is left', async () => {
    const { scheduled, elsewhere } = await corrected();
    // (The account change itself is another email, bank-account-changed: this one is about the tranches.)
    const mail = await t.mail.waitFor((m) => m.to.includes(w.finance.email) && m.text.includes('repoint'));
    const hospital = (await t.http.get(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).expect(200)).body as { name: string };
    expect(mail.subject).toContain(hospital.name);
    expect(mail.text).toContain(`${scheduled.reference}-1`);
    expect(mail.text).not.toContain(elsewhere.reference);
    expect(mail.text).toMatch(/10,000\.00|10000\.00/);
    // Nothing more: a rename moves no money, and an account put back leaves no tranche behind.
    await t.http.patch(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).send({ name: 'Renamed' }).expect(200);
    await correctAccount((await trancheOf(scheduled)).payee).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const [{ n }] = (await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE template = 'payees-outdated'`)) as { n: number }[];
    expect(n).toBe(1);
  });

  it('every tranche view says payeeOutdated: scheduled ones on the old account yes; paid ones, other hospitals and repointed ones no', async () => {
    const { scheduled, paid, elsewhere } = await corrected();
    const outdated = await trancheOf(scheduled);
    expect(outdated).toMatchObject({ status: 'scheduled', payeeOutdated: true });
    expect((await trancheOf(paid)).payeeOutdated).toBe(false);
    expect((await trancheOf(elsewhere)).payeeOutdated).toBe(false);
    for (const who of [w.finance, w.admin, w.hospitalFinance]) {
      expect((await t.http.get(`${API}/disbursements/${outdated.id}`).set(who.auth).expect(200)).body.payeeOutdated).toBe(true);
    }
    expect((await trancheOf(scheduled, w.family)).payeeOutdated).toBe(true);

    expect(await list('')).toEqual([
      [`${scheduled.reference}-1`, true],
      [`${paid.reference}-1`, false],
      [`${elsewhere.reference}-1`, false],
    ]);
    expect(await list('payeeOutdated=true')).toEqual([[`${scheduled.reference}-1`, true]]);
    expect(await list('payeeOutdated=false')).toEqual([
      [`${paid.reference}-1`, false],
      [`${elsewhere.reference}-1`, false],
    ]);
    expect(await list('payeeOutdated=true&status=paid')).toEqual([]);
    expect(await list('payeeOutdated=true', w.hospitalFinance)).toEqual([[`${scheduled.reference}-1`, true]]);
    // Empty is left out, as for every list filter.
    expect(await list('payeeOutdated=')).toEqual(await list(''));
    for (const bad of ['payeeOutdated=yes', 'payeeOutdated=1', 'payeeOutdated=true&payeeOutdated=false']) {
      const res = await t.http.get(`${API}/disbursements?${bad}`).set(w.finance.auth);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }

    await t.http.post(`${API}/disbursements/${outdated.id}/repoint`).set(w.finance.auth).send({}).expect(200);
    expect((await trancheOf(scheduled)).payeeOutdated).toBe(false);
    expect(await list('payeeOutdated=true')).toEqual([]);
  });

  it('a returned tranche on the old account is outdated until rescheduled (which takes the current account)', async () => {
    const grant = await approvedGrant(t, w, { amount: 1_000_000 });
    const { id } = await trancheOf(grant);
    await payTranche(t, w, id);
    await t.http.post(`${API}/disbursements/${id}/return`).set(w.finance.auth).send({ reason: 'Account closed' }).expect(200);
    expect((await trancheOf(grant)).payeeOutdated).toBe(false);
    await correctAccount().expect(200);
    expect((await trancheOf(grant)).payeeOutdated).toBe(true);
    expect(await list('payeeOutdated=true')).toEqual([[`${grant.reference}-1`, true]]);
    await t.http.post(`${API}/disbursements/${id}/reschedule`).set(w.finance.auth).send({}).expect(200);
    expect(await trancheOf(grant)).toMatchObject({ status: 'scheduled', payee: CORRECTED, payeeOutdated: false });
  });

  it("an account a hospital's tranches were paid into stays that hospital's: no other hospital may be given it", async () => {
    const grant = await approvedGrant(t, w, { amount: 1_000_000 });
    await payTranche(t, w, (await trancheOf(grant)).id);
    const former = (await t.http.get(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).expect(200)).body.bankAccount;
    await correctAccount().expect(200);
    // Its statements of the former account are still imported under it (StatementAccounts): a twin could import them too.
    const twin = await t.http.post(`${API}/hospitals`).set(w.admin.auth).send({ name: 'Another hospital', code: 'TWIN', bankAccount: former });
    expect(twin.status).toBe(409);
    expect(twin.body).toMatchObject({ type: expect.stringContaining('hospital-account-taken'), detail: expect.stringContaining('was paid into') });
    const other = await createHospital(t, w.admin);
    const moved = await t.http.patch(`${API}/hospitals/${other.id}`).set(w.admin.auth).send({ bankAccount: former });
    expect(moved.body.type).toContain('hospital-account-taken');
  });

  it("a tranche in a file before its hospital's account changed counts as already exported: it holds no file up under refuse", async () => {
    const sent = await approvedGrant(t, w, { amount: 1_000_000 });
    await exportFile().expect(200);
    await correctAccount().expect(200);
    expect((await trancheOf(sent)).payeeOutdated).toBe(true);
    // Fund finance is told that this one is in a file the bank may already have paid to the previous account.
    const mail = await t.mail.waitFor((m) => m.to.includes(w.finance.email) && m.text.includes(`${sent.reference}-1`));
    expect(mail.text).toMatch(new RegExp(`${sent.reference}-1: .*already in the payment file of \\d{4}-\\d{2}-\\d{2}`));
    expect(mail.text).toContain('ask the bank first');
    const next = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 2_000_000 });
    const [sentRef, nextRef] = [`${sent.reference}-1`, `${next.reference}-1`];
    const headers = (res: { headers: Record<string, string> }) =>
      ['outdated-payees-excluded', 'outdated-payees-included', 'already-exported-excluded', 'already-exported-included'].map((h) => res.headers[h]);

    const refuse = await exportFile('?outdatedPayees=refuse');
    expect(refuse.status).toBe(200);
    expect((parse(refuse.text) as string[][]).slice(1).map((r) => r[0])).toEqual([nextRef]);
    expect(headers(refuse)).toEqual(['0', '0', '1', '0']);
    expect((await exportEvents()).at(-1)).not.toHaveProperty('outdatedPayees');

    const both = await exportFile('?outdatedPayees=refuse&alreadyExported=include');
    expect(both.status).toBe(409);
    expect(both.body.references).toEqual([sentRef]);
    const all = await exportFile('?outdatedPayees=include&alreadyExported=include');
    expect((parse(all.text) as string[][]).slice(1).map((r) => r[0])).toEqual([sentRef, nextRef]);
    expect(headers(all)).toEqual(['0', '1', '0', '2']);
  });

  it('the payment file leaves outdated payees out by default, refuses them (409 naming them, nothing stamped) or puts them in when asked', async () => {
    const { scheduled, elsewhere, previous } = await corrected();
    const [outdatedRef, otherRef] = [`${scheduled.reference}-1`, `${elsewhere.reference}-1`];

    const refused = await exportFile('?outdatedPayees=refuse');
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ type: expect.stringContaining('payees-outdated'), references: [outdatedRef], hospitalIds: [w.hospital.id] });
    expect(refused.body.detail).toContain(outdatedRef);
    expect((await trancheOf(scheduled)).exportedAt).toBeNull();
    expect((await trancheOf(elsewhere)).exportedAt).toBeNull();
    expect(await exportEvents()).toEqual([]);
    // A file of another hospital's tranches has none to refuse.
    await exportFile(`?outdatedPayees=refuse&hospitalId=${(await trancheOf(elsewhere)).hospitalId}`).expect(200);
    await t.dataSource.query(`UPDATE disbursements SET exported_at = NULL`); // that file was never sent: its tranche is due in the next

    // The default: every other tranche is paid today; the outdated one waits for its repoint, unstamped.
    const left = await exportFile();
    expect(left.status).toBe(200);
    expect(left.headers['outdated-payees-excluded']).toBe('1');
    expect(left.headers['outdated-payees-included']).toBe('0');
    expect((parse(left.text) as string[][]).slice(1).map((r) => r[0])).toEqual([otherRef]);
    expect((await trancheOf(scheduled)).exportedAt).toBeNull(); // not in the file: not stamped
    expect((await trancheOf(elsewhere)).exportedAt).toEqual(expect.any(String));
    expect((await exportEvents()).at(-1)).toMatchObject({ count: 1, outdatedPayees: 'exclude', outdatedPayeeReferences: [outdatedRef] });

    const all = await exportFile('?outdatedPayees=include&alreadyExported=include');
    expect(all.status).toBe(200);
    expect(all.headers['outdated-payees-excluded']).toBe('0');
    expect(all.headers['outdated-payees-included']).toBe('1');
    const lines = (parse(all.text) as string[][]).slice(1);
    expect(lines.find((r) => r[0] === outdatedRef)?.slice(2, 5)).toEqual([previous.bankName, previous.accountName, previous.accountNumber]);
    expect((await trancheOf(scheduled)).exportedAt).toEqual(expect.any(String));
    expect((await exportEvents()).at(-1)).toMatchObject({ count: 2, outdatedPayees: 'include', outdatedPayeeReferences: [outdatedRef] });

    const bad = await exportFile('?outdatedPayees=maybe');
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    // A report of paid tranches is no payment file: nothing to refuse, no such headers.
    const report = await exportFile('?status=paid');
    expect(report.status).toBe(200);
    expect(report.headers).not.toHaveProperty('outdated-payees-excluded');
  });

  it('once repointed, the default payment file carries the tranche to the current account', async () => {
    const { scheduled } = await corrected();
    const { id } = await trancheOf(scheduled);
    await t.http.post(`${API}/disbursements/${id}/repoint`).set(w.finance.auth).send({}).expect(200);
    const file = await exportFile();
    expect(file.status).toBe(200);
    expect(file.headers['outdated-payees-excluded']).toBe('0');
    const line = (parse(file.text) as string[][]).find((r) => r[0] === `${scheduled.reference}-1`);
    expect(line?.slice(2, 5)).toEqual([CORRECTED.bankName, CORRECTED.accountName, CORRECTED.accountNumber]);
  });

  it('a payment file waits for an account correction in flight instead of reading past it', async () => {
    const grant = await approvedGrant(t, w, { amount: 1_000_000 });
    const editor = t.dataSource.createQueryRunner();
    await editor.connect();
    try {
      await editor.startTransaction();
      await editor.query(`UPDATE hospitals SET bank_account_number = $2 WHERE id = $1`, [w.hospital.id, CORRECTED.accountNumber]);
      const pending = exportFile().then((r) => r);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await editor.commitTransaction();
      const res = await pending;
      expect(res.status).toBe(200);
      expect(res.headers['outdated-payees-excluded']).toBe('1');
      expect((parse(res.text) as string[][]).slice(1).map((r) => r[0])).not.toContain(`${grant.reference}-1`);
    } finally {
      if (editor.isTransactionActive) await editor.rollbackTransaction();
      await editor.release();
    }
  });

  it('paying a tranche still on the old account is recorded, and its audit event says so', async () => {
    const { scheduled } = await corrected();
    const { id } = await trancheOf(scheduled);
    const paid = await payTranche(t, w, id);
    expect(paid.body).toMatchObject({ status: 'paid', payeeOutdated: false }); // where the money went
    const [event] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action = 'disbursement.paid'`, [id]);
    expect(event.summary).toMatchObject({ payeeOutdated: true });
    const [other] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE action = 'disbursement.paid' AND object_id <> $1`, [id]);
    expect(other.summary).not.toHaveProperty('payeeOutdated');
  });
});
