import { createHospital, hospitalBody, signedInUser } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

describe('Hospitals (e2e)', () => {
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

  it('lets an admin register hospitals that every signed-in user can read, the bank account only those who pay or check it', async () => {
    const admin = await signedInUser(t, 'admin');
    const family = await signedInUser(t, 'applicant');
    const created = await t.http.post('/api/v1/hospitals').set(admin.auth).send(hospitalBody('SCMC', '6222021001234567890'));
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'Hospital SCMC',
      code: 'SCMC',
      bankAccount: { bankName: 'ICBC Shanghai', accountName: 'Hospital SCMC', accountNumber: '6222021001234567890' },
      createdAt: expect.any(String),
    });
    await createHospital(t, admin, 'BCH');
    const list = await t.http.get('/api/v1/hospitals?limit=1').set(family.auth).expect(200);
    expect(list.body.items.map((h: { code: string }) => h.code)).toEqual(['BCH']);
    const next = await t.http.get(`/api/v1/hospitals?limit=1&cursor=${list.body.nextCursor}`).set(family.auth).expect(200);
    expect(next.body).toEqual({ items: [expect.objectContaining({ code: 'SCMC' })], nextCursor: null });
    await t.http.get(`/api/v1/hospitals/${created.body.id}`).set(family.auth).expect(200);
    await t.http.get('/api/v1/hospitals').expect(401);

    // Where the fund's money goes is read by those who pay into it or check it, not by every self-registered account.
    const reviewer = await signedInUser(t, 'reviewer');
    const finance = await signedInUser(t, 'fund_finance');
    const office = await signedInUser(t, 'hospital_finance', { hospitalId: created.body.id });
    const accountsSeen = async (who: { auth: Record<string, string> }) => {
      const listed = (await t.http.get('/api/v1/hospitals').set(who.auth).expect(200)).body.items as { code: string; bankAccount?: unknown }[];
      const one = (await t.http.get(`/api/v1/hospitals/${created.body.id}`).set(who.auth).expect(200)).body as { bankAccount?: unknown };
      return { listed: listed.filter((h) => h.bankAccount).map((h) => h.code), one: one.bankAccount !== undefined };
    };
    expect(await accountsSeen(family)).toEqual({ listed: [], one: false });
    expect(await accountsSeen(reviewer)).toEqual({ listed: [], one: false });
    expect(await accountsSeen(office)).toEqual({ listed: ['SCMC'], one: true });
    expect(await accountsSeen(finance)).toEqual({ listed: ['BCH', 'SCMC'], one: true });
    expect(await accountsSeen(admin)).toEqual({ listed: ['BCH', 'SCMC'], one: true });
  });

  it('refuses writes by non-admins, duplicate codes and bad bank accounts', async () => {
    const admin = await signedInUser(t, 'admin');
    const reviewer = await signedInUser(t, 'reviewer');
    await t.http.post('/api/v1/hospitals').set(reviewer.auth).send(hospitalBody('X1')).expect(403);
    await createHospital(t, admin, 'DUP');
    await t.http.post('/api/v1/hospitals').set(admin.auth).send(hospitalBody('DUP')).expect(409);
    const bad = await t.http
      .post('/api/v1/hospitals')
      .set(admin.auth)
      .send({ ...hospitalBody('OK1'), bankAccount: { bankName: 'B', accountName: 'A', accountNumber: 'not a number!' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'bankAccount.accountNumber' })]);
    const rows = await t.dataSource.query(`SELECT code FROM hospitals ORDER BY code`);
    expect(rows).toEqual([{ code: 'DUP' }]);
  });

  it('refuses a second hospital with the bank account or the name of another (409), at once or by a later correction', async () => {
    const admin = await signedInUser(t, 'admin');
    const post = (body: object) => t.http.post('/api/v1/hospitals').set(admin.auth).send(body);
    const first = (await post({ ...hospitalBody('SCMC'), name: '上海儿童医学中心' }).expect(201)).body;
    const account = first.bankAccount.accountNumber as string;

    const sameAccount = await post({ ...hospitalBody('SAH'), bankAccount: { bankName: 'Other', accountName: 'Other', accountNumber: account.replace(/(\d{4})/g, '$1 ') } });
    expect(sameAccount.status).toBe(409);
    expect(sameAccount.body).toMatchObject({ type: expect.stringContaining('hospital-account-taken'), detail: expect.stringContaining('SCMC') });
    const sameName = await post({ ...hospitalBody('SCMC2'), name: ' 上海儿童医学中心 ' });
    expect(sameName.status).toBe(409);
    expect(sameName.body.type).toContain('hospital-name-taken');

    const second = (await post(hospitalBody('SAH')).expect(201)).body;
    const patch = (body: object) => t.http.patch(`/api/v1/hospitals/${second.id}`).set(admin.auth).send(body);
    expect((await patch({ bankAccount: { ...second.bankAccount, accountNumber: account } })).body.type).toContain('hospital-account-taken');
    expect((await patch({ name: '上海儿童医学中心' })).body.type).toContain('hospital-name-taken');
    // Its own name and account again, or a new code alone, are no twin of anyone.
    await patch({ name: second.name, bankAccount: second.bankAccount, code: 'SAH-1' }).expect(200);
    expect(await t.dataSource.query(`SELECT code, bank_account_number FROM hospitals ORDER BY code`)).toEqual([
      { code: 'SAH-1', bank_account_number: second.bankAccount.accountNumber },
      { code: 'SCMC', bank_account_number: account },
    ]);
    // Two admins at once with one new account: one hospital has it.
    const racing = await Promise.all(['R1', 'R2'].map((code) => post({ ...hospitalBody(code), bankAccount: { ...second.bankAccount, accountNumber: '6222999988887777666' } })));
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('cleans names that reach families\' emails and payment files: no control or reordering characters, and a letter', async () => {
    const admin = await signedInUser(t, 'admin');
    const body = hospitalBody('CLEAN');
    const created = await t.http
      .post('/api/v1/hospitals')
      .set(admin.auth)
      .send({ ...body, name: ' 上海\u202e儿童\u0007医学中心\u200b ', bankAccount: { ...body.bankAccount, accountName: '上海儿童\n医学中心', bankName: '中国\u2066工商银行' } })
      .expect(201);
    expect(created.body).toMatchObject({ name: '上海儿童医学中心' });
    const [row] = await t.dataSource.query(`SELECT name, bank_name, bank_account_name FROM hospitals WHERE code = 'CLEAN'`);
    expect(row).toEqual({ name: '上海儿童医学中心', bank_name: '中国工商银行', bank_account_name: '上海儿童 医学中心' });
    const blank = await t.http.post('/api/v1/hospitals').set(admin.auth).send({ ...hospitalBody('BLANK'), name: '\u200b\u2066 ' });
    expect(blank.status).toBe(400);
    expect(blank.body.errors).toEqual([expect.objectContaining({ field: 'name' })]);
  });

  it('upper-cases a code, so a lower-case one is the same code; drops spaces and dashes from an account number', async () => {
    const admin = await signedInUser(t, 'admin');
    const created = await t.http
      .post('/api/v1/hospitals')
      .set(admin.auth)
      .send({ ...hospitalBody(' scmc-1 '), bankAccount: { bankName: 'B', accountName: 'A', accountNumber: '6222 0210-0123 4567 890' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ code: 'SCMC-1', bankAccount: { accountNumber: '6222021001234567890' } });
    const again = await t.http.post('/api/v1/hospitals').set(admin.auth).send(hospitalBody('Scmc-1'));
    expect(again.status).toBe(409);
    const patched = await t.http
      .patch(`/api/v1/hospitals/${created.body.id}`)
      .set(admin.auth)
      .send({ code: 'scmc-2', bankAccount: { bankName: 'B', accountName: 'A', accountNumber: '6222-0210-0123-4567-891' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ code: 'SCMC-2', bankAccount: { accountNumber: '6222021001234567891' } });
    expect(await t.dataSource.query('SELECT code, bank_account_number FROM hospitals')).toEqual([{ code: 'SCMC-2', bank_account_number: '6222021001234567891' }]);
  });

  it('returns 404 for an unknown hospital and 400 for a malformed id', async () => {
    const admin = await signedInUser(t, 'admin');
    await t.http.get('/api/v1/hospitals/00000000-0000-4000-8000-000000000000').set(admin.auth).expect(404);
    const malformed = await t.http.get('/api/v1/hospitals/not-a-uuid').set(admin.auth).expect(400);
    expect(malformed.body.errors).toEqual([{ field: 'id', message: 'id must be a UUID' }]);
  });

  it('lets an admin correct a hospital and audits it', async () => {
    const admin = await signedInUser(t, 'admin');
    const h = await createHospital(t, admin, 'FIX', '6222021001234567890');
    const res = await t.http.patch(`/api/v1/hospitals/${h.id}`).set(admin.auth).send({ name: 'Renamed' }).expect(200);
    expect(res.body.name).toBe('Renamed');
    const oldAccount = hospitalBody('FIX', '6222021001234567890').bankAccount;
    const newAccount = { ...oldAccount, accountNumber: '9559980012345678' };
    const moved = await t.http.patch(`/api/v1/hospitals/${h.id}`).set(admin.auth).send({ bankAccount: newAccount }).expect(200);
    // The answer tells the admin how much scheduled money still pays into another account (none here: no grants).
    expect(moved.body).toEqual({ id: h.id, name: 'Renamed', code: 'FIX', bankAccount: newAccount, createdAt: expect.any(String), scheduledTranchesOnOtherAccounts: 0 });
    expect((await t.http.get(`/api/v1/hospitals/${h.id}`).set(admin.auth).expect(200)).body).not.toHaveProperty('scheduledTranchesOnOtherAccounts');
    // The same details again, and an empty patch: nothing changes, nothing is audited.
    await t.http.patch(`/api/v1/hospitals/${h.id}`).set(admin.auth).send({ bankAccount: newAccount }).expect(200);
    await t.http.patch(`/api/v1/hospitals/${h.id}`).set(admin.auth).send({}).expect(200);
    const audit = await t.dataSource.query(`SELECT action, summary FROM audit_events WHERE object_id = $1 ORDER BY id`, [h.id]);
    expect(audit).toEqual([
      { action: 'hospital.created', summary: { code: 'FIX', name: 'Hospital FIX', bankAccount: oldAccount } },
      { action: 'hospital.updated', summary: { changes: { name: { from: 'Hospital FIX', to: 'Renamed' } } } },
      // Where the money goes: what the account was and what it became.
      { action: 'hospital.updated', summary: { changes: { bankAccount: { from: oldAccount, to: newAccount, scheduledTranchesOnOtherAccounts: 0 } } } },
    ]);
  });

  it("tells the hospital's finance office and fund finance when the account the fund pays into changes, by its last digits", async () => {
    const admin = await signedInUser(t, 'admin');
    const h = await createHospital(t, admin, 'ACCT', '6222021001234567890');
    const other = await createHospital(t, admin, 'OTHER');
    const office = await signedInUser(t, 'hospital_finance', { hospitalId: h.id, locale: 'zh-CN' });
    const elsewhere = await signedInUser(t, 'hospital_finance', { hospitalId: other.id });
    const finance = await signedInUser(t, 'fund_finance');
    await t.http.patch(`/api/v1/hospitals/${h.id}`).set(admin.auth).send({ name: 'Renamed' }).expect(200); // not the account: no email
    const newAccount = { bankName: 'Bank of China Shanghai', accountName: 'Renamed', accountNumber: '9559980012344321' };
    await t.http.patch(`/api/v1/hospitals/${h.id}`).set(admin.auth).send({ bankAccount: newAccount }).expect(200);

    const toOffice = await t.mail.waitFor((m) => m.to.includes(office.email));
    expect(toOffice.subject).toBe('基金向Renamed付款的银行账户已变更');
    expect(toOffice.text).toContain('ICBC Shanghai，Hospital ACCT，尾号 7890'); // the holder's name before too: a change of it alone is a sign of fraud
    expect(toOffice.text).toContain('Bank of China Shanghai，Renamed，尾号 4321');
    const toFinance = await t.mail.waitFor((m) => m.to.includes(finance.email));
    expect(toFinance.text).toMatch(/Now: +Bank of China Shanghai, Renamed, account ending 4321/);
    for (const mail of [toOffice, toFinance]) {
      expect(mail.text).not.toContain('9559980012344321'); // an email is no place for a whole account number
      expect(mail.html).not.toContain('6222021001234567890');
    }
    const sentTo = (await t.dataSource.query(`SELECT to_email FROM notifications WHERE template = 'bank-account-changed' ORDER BY to_email`)) as { to_email: string }[];
    expect(sentTo.map((r) => r.to_email).sort()).toEqual([office.email, finance.email].sort());
    expect(t.mail.to(elsewhere.email)).toEqual([]);
  });
});
