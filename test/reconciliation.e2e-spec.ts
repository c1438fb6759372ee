import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DEFAULT_MEANS_POLICY } from 'src/assessment/means-policy';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { createHospital, signedInUser, SignedIn } from 'test/support/factories';
import { approvedGrant, camt053, csvStatement, Grant, grantWorld, GrantWorld, payTranche, StatementLine, TEST_HOSPITAL_ACCOUNT, tranchesOf as grantTranches } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';
import { CAMT053_FIXTURES } from 'test/fixtures/camt053';

const API = '/api/v1';

describe('Reconciliation (e2e)', () => {
  let t: TestApp;
  let w: GrantWorld;

  const spoolDir = mkdtempSync(join(tmpdir(), 'sprout-spool-'));
  beforeAll(async () => {
    t = await startTestApp({ STATEMENT_SPOOL_DIR: spoolDir });
  });
  afterAll(async () => {
    await t.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await t.reset();
    w = await grantWorld(t, 100_000_000);
  });
  // Every upload's spooled copy (it holds bank data) is gone once the response is out, whatever the outcome.
  afterEach(() => expect(readdirSync(spoolDir)).toEqual([]));

  const untilSpooled = async (dir: string, deadline = Date.now() + 10_000): Promise<void> => {
    for (;;) {
      const spooled = readdirSync(dir).map((d) => join(dir, d, 'upload'));
      if (spooled.some((f) => existsSync(f) && statSync(f).size > 0)) return;
      if (Date.now() > deadline) throw new Error('the stalled upload never reached the spool directory');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const upload = (file: Buffer, who: SignedIn = w.hospitalFinance, hospitalId?: string, name = 'statement.xml') => {
    const req = t.http.post(`${API}/reconciliation/statements`).set(who.auth);
    if (hospitalId) req.field('hospitalId', hospitalId);
    return req.attach('file', file, { filename: name, contentType: 'application/octet-stream' });
  };
  const tranchesOf = (grant: Grant) => grantTranches(t, w, grant);
  const pay = (id: string) => payTranche(t, w, id);
  const paidGrant = async (amount = 3_000_000): Promise<{ grant: Grant; tranche: Record<string, any> }> => {
    const grant = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount });
    const [tranche] = await tranchesOf(grant);
    await pay(tranche.id);
    return { grant, tranche };
  };
  /** Grants in two equal tranches from now on (reconciling one leaves the grant disbursing). */
  const splitInTwo = () =>
    t.http
      .put(`${API}/policies/means-assessment`)
      .set(w.admin.auth)
      .send({ ...DEFAULT_MEANS_POLICY, tranches: { ...DEFAULT_MEANS_POLICY.tranches, hsct: [{ label: 'a', share: '0.5' }, { label: 'b', share: '0.5' }] } })
      .expect(200);
  /** A grant of two equal tranches (splitInTwo first), both paid. */
  const bothTranchesPaid = async (amount = 6_000_000) => {
    const grant = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount });
    const [first, second] = await tranchesOf(grant);
    await pay(first.id);
    await pay(second.id);
    return { grant, first, second };
  };
  const disbursementStatus = async (id: string) => ((await t.dataSource.query(`SELECT status FROM disbursements WHERE id = $1`, [id])) as { status: string }[])[0].status;
  const appStatus = async (id: string) => ((await t.dataSource.query(`SELECT status FROM applications WHERE id = $1`, [id])) as { status: string }[])[0].status;
  const statementCount = async () => ((await t.dataSource.query(`SELECT (SELECT count(*) FROM bank_statements)::int AS s, (SELECT count(*) FROM statement_entries)::int AS e`)) as { s: number; e: number }[])[0];
  const items = async (statementId: string, who: SignedIn = w.hospitalFinance) =>
    (await t.http.get(`${API}/reconciliation/statements/${statementId}`).set(who.auth).expect(200)).body.items as Record<string, any>[];

  it('approve → pay → import camt.053 and CSV carrying the references → reconciled → completed', async () => {
    const policy = { ...DEFAULT_MEANS_POLICY, tranches: { ...DEFAULT_MEANS_POLICY.tranches, hsct: [{ label: 'admission', share: '0.5' }, { label: 'after', share: '0.5' }] } };
    await t.http.put(`${API}/policies/means-assessment`).set(w.admin.auth).send(policy).expect(200);
    const grant = await approvedGrant(t, w, { amount: 6_000_001 });
    const [first, second] = await tranchesOf(grant);
    expect([first.amount, second.amount]).toEqual([3_000_001, 3_000_000]);
    await pay(first.id);
    await pay(second.id);
    expect(await appStatus(grant.id)).toBe('disbursing');

    const xml = camt053([
      { amount: '30000.01', remittance: `Sprout grant ${first.reference} first tranche`, accountServicerReference: 'ICBC-0001', counterparty: 'Sprout Fund' },
      { amount: '120.00', remittance: 'Patient deposit' , accountServicerReference: 'ICBC-0002' },
    ]);
    const res = await upload(xml);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ format: 'camt.053', entries: 2, matched: 1, unmatched: 1, mismatched: 0, duplicates: 0, ignored: 0, hospitalId: w.hospital.id });
    expect(res.body.sha256).toBe(createHash('sha256').update(xml).digest('hex'));
    expect(await disbursementStatus(first.id)).toBe('reconciled');
    expect(await appStatus(grant.id)).toBe('disbursing');

    const detail = await t.http.get(`${API}/reconciliation/statements/${res.body.id}`).set(w.hospitalFinance.auth).expect(200);
    expect(detail.body).toMatchObject({ id: res.body.id, entries: 2, matched: 1, nextCursor: null });
    expect(detail.body.items).toEqual([
      expect.objectContaining({ bookingDate: '2026-09-15', amount: 3_000_001, currency: 'CNY', reference: first.reference, status: 'matched', disbursementId: first.id, matchKind: 'auto' }),
      expect.objectContaining({ amount: 12_000, reference: null, status: 'unmatched', disbursementId: null, remittance: 'Patient deposit' }),
    ]);

    const csv = csvStatement([{ amount: '30000.00', remittance: `拨款${second.reference.replace(/-/g, '')}第二期`, bookingDate: '2026-09-20' }]);
    const csvRes = await upload(csv, w.finance, w.hospital.id, 'statement.csv');
    expect(csvRes.status).toBe(201);
    expect(csvRes.body).toMatchObject({ format: 'csv', entries: 1, matched: 1 });
    expect(await disbursementStatus(second.id)).toBe('reconciled');
    expect(await appStatus(grant.id)).toBe('completed');

    const actions = (await t.dataSource.query(`SELECT action FROM audit_events ORDER BY id`)).map((a: { action: string }) => a.action);
    expect(actions.filter((a: string) => a === 'reconciliation.statement_imported')).toHaveLength(2);
    expect(actions.filter((a: string) => a === 'disbursement.reconciled')).toHaveLength(2);
    expect(actions).toContain('application.completed');
    // The patient's own deposit names nothing of the fund's, and is of no amount the fund paid: no email for it.
    expect(await t.dataSource.query(`SELECT 1 FROM notifications WHERE template = 'reconciliation-exceptions'`)).toEqual([]);
  });

  it("emails hospital finance the entries that need a person, not the hospital's own business", async () => {
    const { tranche } = await paidGrant(2_500_000);
    const exceptionsOf = async (statementId: string) =>
      (await t.dataSource.query(`SELECT context FROM notifications WHERE template = 'reconciliation-exceptions' AND context->>'statementId' = $1`, [statementId]))[0]?.context;

    // Patients' deposits and bills: the bulk of a hospital's account, none of the fund's business. No email.
    const own = await upload(camt053([
      { amount: '500.00', remittance: '押金 张三', accountServicerReference: 'OWN-1' },
      { amount: '1234.50', remittance: '住院费', accountServicerReference: 'OWN-2' },
    ]));
    expect(own.body).toMatchObject({ entries: 2, unmatched: 2 });
    expect(await exceptionsOf(own.body.id)).toBeUndefined();

    // A credit of exactly a paid tranche's amount, its reference lost on the way; and one naming a tranche unknown here.
    const lost = await upload(camt053([
      { amount: '25000.00', remittance: '基金拨款', accountServicerReference: 'LOST-1' },
      { amount: '700.00', remittance: '押金 李四', accountServicerReference: 'OWN-3' },
      { amount: '99.00', remittance: 'SPR-2026-999999-1', accountServicerReference: 'ODD-1' },
    ]));
    expect(lost.body).toMatchObject({ entries: 3, unmatched: 3 });
    expect(await exceptionsOf(lost.body.id)).toMatchObject({ hospitalId: w.hospital.id, mismatched: 0, unmatched: 1, unnamedLikePayments: 1, unnamed: 1, duplicates: 0 });
    const mail = await t.mail.waitFor((m) => m.to.includes(w.hospitalFinance.email) && m.text.includes(lost.body.id));
    expect(mail.text).toMatch(/Reference found, but no payment of it to match:\s+1/);
    expect(mail.text).toMatch(/was its reference lost on the way\?\):\s+1/);
    expect(mail.text).toContain('Not counted above: 1 other credit(s) naming no Sprout payment');
    expect(mail.text).toContain(`(file statement.xml, statement ${lost.body.id})`); // as the person who imported it knows it
    expect(mail.text).toMatch(new RegExp(`https?://[^/\\s]+/reconciliation/statements/${lost.body.id}`));
    expect(await disbursementStatus(tranche.id)).toBe('paid'); // matched by hand, not by amount alone

    // A tranche in a payment file the bank may have paid before fund finance records it: its amount counts too.
    const sent = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 3_300_000 });
    await t.http.get(`${API}/disbursements/export?status=scheduled`).set(w.finance.auth).expect(200);
    expect((await tranchesOf(sent))[0]).toMatchObject({ status: 'scheduled', exportedAt: expect.any(String) });
    const early = await upload(camt053([{ amount: '33000.00', remittance: '基金', accountServicerReference: 'EARLY-1' }]));
    expect(await exceptionsOf(early.body.id)).toMatchObject({ unmatched: 0, unnamedLikePayments: 1, unnamed: 0 });
  });

  it('the millionth application is approved, paid and reconciled like the first (its serial has 7 digits)', async () => {
    const [{ last }] = (await t.dataSource.query(`SELECT last_value::text AS last FROM application_reference_seq`)) as { last: string }[];
    await t.dataSource.query(`SELECT setval('application_reference_seq', 999999)`);
    try {
      const { grant, tranche } = await paidGrant(2_000_000);
      expect(grant.reference).toMatch(/^SPR-\d{4}-1000000$/);
      expect(tranche.reference).toBe(`${grant.reference}-1`);
      const res = await upload(camt053([{ amount: '20000.00', remittance: `Sprout ${tranche.reference}`, accountServicerReference: 'M-1' }]));
      expect(res.body).toMatchObject({ entries: 1, matched: 1 });
      expect(await appStatus(grant.id)).toBe('completed');
    } finally {
      await t.dataSource.query(`SELECT setval('application_reference_seq', $1::bigint)`, [last]);
    }
  });

  it("keeps of a hospital's other entries only what concerns the fund: no texts of debits naming no tranche; the fund's staff see texts only of entries that name one", async () => {
    const { tranche } = await paidGrant(2_000_000);
    const { tranche: other } = await paidGrant(1_000_000);
    const res = await upload(camt053([
      { amount: '20000.00', remittance: tranche.reference, counterparty: '爱心基金会', accountServicerReference: 'OURS-1' },
      { amount: '1234.00', remittance: '张三 住院费 住院号 2026-0915', counterparty: '张三', accountServicerReference: 'BILL-1' },
      { amount: '8800.00', remittance: '工资 李护士', counterparty: '李护士', creditDebit: 'DBIT', accountServicerReference: 'SALARY-1' },
      { amount: '500.00', remittance: `Refund ${other.reference}`, creditDebit: 'DBIT', accountServicerReference: 'BACK-1' },
      { amount: '100.00', currency: 'USD', remittance: 'Gift for ward 3', counterparty: 'John Smith', accountServicerReference: 'USD-1' },
    ]));
    expect(res.body).toMatchObject({ entries: 5, matched: 1, mismatched: 0, unmatched: 4, ignored: 2 }); // the partial refund: unmatched, for a person
    const stored = await t.dataSource.query(`SELECT position, remittance, counterparty FROM statement_entries WHERE statement_id = $1 ORDER BY position`, [res.body.id]);
    expect(stored).toEqual([
      { position: 0, remittance: tranche.reference, counterparty: '爱心基金会' },
      { position: 1, remittance: '张三 住院费 住院号 2026-0915', counterparty: '张三' },
      { position: 2, remittance: '', counterparty: null },
      { position: 3, remittance: `Refund ${other.reference}`, counterparty: null },
      { position: 4, remittance: '', counterparty: null },
    ]);
    const texts = (list: Record<string, any>[]) => list.map((i) => [i.remittance, i.counterparty]);
    expect(texts(await items(res.body.id))).toEqual(stored.map((e: { remittance: string; counterparty: string | null }) => [e.remittance, e.counterparty]));
    for (const staff of [w.finance, w.admin]) {
      expect(texts(await items(res.body.id, staff))).toEqual([
        [tranche.reference, '爱心基金会'],
        ['', null],
        ['', null],
        [`Refund ${other.reference}`, null],
        ['', null],
      ]);
    }

    // A CSV's reference column is the payer's text as much as its description: a refund's, naming no tranche, is not kept.
    const csv = await upload(csvStatement([
      { amount: '-300.00', accountServicerReference: '张三 住院号 778812 押金退还', counterparty: '张三', remittance: '退押金' },
      { amount: '-200.00', accountServicerReference: `${tranche.reference} ${other.reference}`, counterparty: '基金', remittance: 'two tranches back' },
    ]), w.hospitalFinance, undefined, 'refunds.csv');
    const csvStored = await t.dataSource.query(`SELECT remittance, structured_references, counterparty FROM statement_entries WHERE statement_id = $1 ORDER BY position`, [csv.body.id]);
    expect(csvStored[0]).toEqual({ remittance: '', structured_references: [], counterparty: null });
    expect(csvStored[1].structured_references).toEqual([`${tranche.reference} ${other.reference}`]);
    // Naming two tranches (so no one `reference`), it concerns the fund: its texts are the fund's staff's to read.
    const [, twoNamed] = await items(csv.body.id, w.finance);
    expect(twoNamed).toMatchObject({ reference: null, remittance: 'two tranches back', structuredReferences: [`${tranche.reference} ${other.reference}`] });
  });

  it('re-importing the same file → 409, nothing new stored or matched', async () => {
    const { tranche } = await paidGrant();
    const xml = camt053([{ amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'B-1' }]);
    const first = await upload(xml);
    expect(first.body.matched).toBe(1);
    const before = await statementCount();
    const again = await upload(xml);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: expect.stringContaining('statement-already-imported'), statementId: first.body.id });
    const byFinance = await upload(xml, w.finance, w.hospital.id);
    expect(byFinance.status).toBe(409);
    expect(await statementCount()).toEqual(before);
    expect((await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'disbursement.reconciled'`))[0].n).toBe(1);
  });

  it('the same bank entry in two different statements is a duplicate, never matched twice', async () => {
    await splitInTwo();
    const { tranche } = await paidGrant(6_000_000); // two tranches: reconciling one leaves the grant disbursing
    const entry: StatementLine = { amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'ICBC-77', bookingDate: '2026-09-15' };
    const a = await upload(camt053([entry], { statementId: 'INTRADAY' }));
    expect(a.body.matched).toBe(1);
    // The end-of-day statement repeats it (another file), in another camt version.
    const b = await upload(camt053([entry, { amount: '5.00', accountServicerReference: 'ICBC-78' }], { statementId: 'EOD', version: '001.02' }));
    expect(b.status).toBe(201);
    expect(b.body).toMatchObject({ entries: 2, matched: 0, duplicates: 1, unmatched: 1 });
    // Even after the match is undone by hand, the repeat does not match automatically.
    const [matched] = await items(a.body.id);
    await t.http.post(`${API}/reconciliation/entries/${matched.id}/unmatch`).set(w.hospitalFinance.auth).expect(200);
    const c = await upload(camt053([entry], { statementId: 'AGAIN' }));
    expect(c.body).toMatchObject({ matched: 0, duplicates: 1 });
    expect(await disbursementStatus(tranche.id)).toBe('paid');
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM statement_entries WHERE disbursement_id = $1 AND status = 'matched'`, [tranche.id]);
    expect(n).toBe(0);
  });

  it('a second transfer for a tranche already reconciled is emailed as a possible double payment; a repeat of an entry already imported is not', async () => {
    await splitInTwo();
    const { tranche } = await paidGrant(6_000_000);
    const entry: StatementLine = { amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'ICBC-81', bookingDate: '2026-09-15' };
    const first = await upload(camt053([entry], { statementId: 'DAY-1' }));
    expect(first.body).toMatchObject({ matched: 1, duplicates: 0 });
    const repeat = await upload(camt053([entry], { statementId: 'MONTH' }));
    expect(repeat.body).toMatchObject({ matched: 0, duplicates: 1, unmatched: 0, mismatched: 0 });
    // The fund paid the tranche again: another bank entry, same amount and reference.
    const again = await upload(camt053([{ ...entry, accountServicerReference: 'ICBC-82', bookingDate: '2026-09-16' }], { statementId: 'DAY-2' }));
    expect(again.body).toMatchObject({ matched: 0, duplicates: 1, unmatched: 0, mismatched: 0 });

    const mail = await t.mail.waitFor((m) => m.to.includes(w.hospitalFinance.email) && m.text.includes(again.body.id));
    expect(mail.text).toMatch(/possible double payment[^:]*:\s+1/i);
    const emailed = (await t.dataSource.query(
      `SELECT context->>'statementId' AS statement, (context->>'duplicates')::int AS duplicates FROM notifications WHERE template = 'reconciliation-exceptions'`,
    )) as object[];
    expect(emailed).toEqual([{ statement: again.body.id, duplicates: 1 }]);
  });

  it('a hospital id in capitals is the same hospital: fund finance imports under it (and matches), hospital finance names its own', async () => {
    const { tranche } = await paidGrant();
    const upper = w.hospital.id.toUpperCase();
    const res = await upload(camt053([{ amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'UP-1' }]), w.finance, upper);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ hospitalId: w.hospital.id, matched: 1 });
    expect(await disbursementStatus(tranche.id)).toBe('reconciled');
    const own = w.hospitalFinance;
    expect((await t.http.get(`${API}/reconciliation/statements?hospitalId=${upper}`).set(own.auth)).status).toBe(200);
    expect((await t.http.get(`${API}/disbursements?hospitalId=${upper}`).set(own.auth)).body.items).toEqual([expect.objectContaining({ id: tranche.id })]);
    expect((await t.http.get(`${API}/reconciliation/report?hospitalId=${upper}&from=2026-01-01&to=2026-12-31`).set(own.auth)).status).toBe(200);
  });

  it('a batch credit (one entry, a transfer per tranche) reconciles each tranche it carries; the batch in a later file repeats them', async () => {
    await splitInTwo();
    const { grant, first, second } = await bothTranchesPaid(6_000_000);
    const other = await paidGrant(2_000_000);
    const batch: StatementLine = {
      amount: '70000.00',
      accountServicerReference: 'ICBC-BATCH-1',
      transfers: [
        { amount: '30000.00', remittance: `Sprout ${first.reference}` },
        { amount: '30000.00', remittance: `Sprout ${second.reference}` },
        { amount: '10000.00', remittance: `Sprout ${other.tranche.reference}` }, // its first of two tranches
      ],
    };
    const res = await upload(camt053([batch, { amount: '5.00', accountServicerReference: 'ICBC-9' }]));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ entries: 4, matched: 3, unmatched: 1, mismatched: 0, duplicates: 0 });
    expect((await items(res.body.id)).map((i) => [i.location, i.amount, i.status, i.disbursementId])).toEqual([
      ['Stmt[1]/Ntry[1]/TxDtls[1]', 3_000_000, 'matched', first.id],
      ['Stmt[1]/Ntry[1]/TxDtls[2]', 3_000_000, 'matched', second.id],
      ['Stmt[1]/Ntry[1]/TxDtls[3]', 1_000_000, 'matched', other.tranche.id],
      ['Stmt[1]/Ntry[2]', 500, 'unmatched', null],
    ]);
    expect(await appStatus(grant.id)).toBe('completed');
    expect(await disbursementStatus(other.tranche.id)).toBe('reconciled');

    // The end-of-day statement repeats the batch, in camt.053.001.02 (amounts in AmtDtls): three duplicates, nothing matched again.
    const again = await upload(camt053([batch], { statementId: 'EOD', version: '001.02' }));
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ entries: 3, matched: 0, duplicates: 3 });
  });

  it('a batch credit whose transfers do not add up stays one entry, an exception for hospital finance', async () => {
    const { tranche } = await paidGrant(2_000_000);
    const res = await upload(
      camt053([{ amount: '30000.00', accountServicerReference: 'ICBC-BATCH-2', transfers: [{ amount: '20000.00', remittance: tranche.reference }, { amount: '9999.99', remittance: 'rest' }] }]),
    );
    expect(res.body).toMatchObject({ entries: 1, matched: 0, mismatched: 1 });
    const [item] = await items(res.body.id);
    expect(item).toMatchObject({ location: 'Stmt[1]/Ntry[1]', amount: 3_000_000, remittance: `${tranche.reference} rest`, status: 'mismatched' });
    expect(await disbursementStatus(tranche.id)).toBe('paid');
  });

  it('two identical CSV rows are two transfers: each can be matched by hand, and a later file repeats only the rows seen before', async () => {
    await splitInTwo();
    const { grant, first, second } = await bothTranchesPaid();
    // No bank reference and no Sprout reference: the same text for both equal tranches, paid the same day.
    const row: StatementLine = { amount: '30000.00', remittance: 'Children fund grant', bookingDate: '2026-09-15' };
    const noon = await upload(csvStatement([row]), w.hospitalFinance, undefined, 'noon.csv');
    expect(noon.body).toMatchObject({ entries: 1, unmatched: 1 });
    const endOfDay = await upload(csvStatement([row, row]), w.hospitalFinance, undefined, 'eod.csv');
    // The first row is the noon one again; the second is the other transfer, and is there to be matched.
    expect(endOfDay.body).toMatchObject({ entries: 2, duplicates: 1, unmatched: 1 });
    const [repeat, secondTransfer] = await items(endOfDay.body.id);
    expect([repeat.status, secondTransfer.status]).toEqual(['duplicate', 'unmatched']);
    const [noonRow] = await items(noon.body.id);
    const match = (entryId: string, disbursementId: string) => t.http.post(`${API}/reconciliation/entries/${entryId}/match`).set(w.hospitalFinance.auth).send({ disbursementId });
    await match(noonRow.id, first.id).expect(200);
    await match(secondTransfer.id, second.id).expect(200);
    expect(await appStatus(grant.id)).toBe('completed');

    // In one file alone, both identical rows are matchable too.
    const { grant: other, first: a, second: b } = await bothTranchesPaid();
    const twice: StatementLine = { amount: '30000.00', remittance: 'Children fund grant 2', bookingDate: '2026-09-16' };
    const both = await upload(csvStatement([twice, twice]), w.hospitalFinance, undefined, 'both.csv');
    expect(both.body).toMatchObject({ entries: 2, unmatched: 2, duplicates: 0 });
    const [one, two] = await items(both.body.id);
    await match(one.id, a.id).expect(200);
    await match(two.id, b.id).expect(200);
    expect(await appStatus(other.id)).toBe('completed');
  });

  it('a repeat under the bank\'s own reference stays a repeat when its texts name a reference the first import lacked', async () => {
    await splitInTwo();
    const { first } = await bothTranchesPaid();
    // The intraday statement's remittance carried no Sprout reference; the end-of-day one's does. Same bank entry.
    const intraday = await upload(camt053([{ amount: '30000.00', remittance: 'Children fund', accountServicerReference: 'ICBC-92', bookingDate: '2026-09-15' }], { statementId: 'INTRADAY-92' }));
    expect(intraday.body).toMatchObject({ unmatched: 1 });
    const endOfDay = await upload(camt053([{ amount: '30000.00', remittance: first.reference, accountServicerReference: 'ICBC-92', bookingDate: '2026-09-15' }], { statementId: 'EOD-92' }));
    expect(endOfDay.body).toMatchObject({ matched: 0, duplicates: 1 });
    const [repeat] = await items(endOfDay.body.id);
    const refused = await t.http.post(`${API}/reconciliation/entries/${repeat.id}/match`).set(w.hospitalFinance.auth).send({ disbursementId: first.id });
    expect([refused.status, refused.body.type]).toEqual([409, expect.stringContaining('entry-repeats-imported-entry')]);
    expect(await disbursementStatus(first.id)).toBe('paid');
  });

  it('a repeat of an imported bank entry cannot be matched by hand to another tranche: one credit pays one tranche', async () => {
    await splitInTwo();
    const { grant, first, second } = await bothTranchesPaid();
    const entry: StatementLine = { amount: '30000.00', remittance: first.reference, accountServicerReference: 'ICBC-91', bookingDate: '2026-09-15' };
    const intraday = await upload(camt053([entry], { statementId: 'INTRADAY-91' }));
    expect(intraday.body.matched).toBe(1);
    const endOfDay = await upload(camt053([entry], { statementId: 'EOD-91' }));
    expect(endOfDay.body).toMatchObject({ matched: 0, duplicates: 1 });
    const [repeat] = await items(endOfDay.body.id);

    const refused = await t.http.post(`${API}/reconciliation/entries/${repeat.id}/match`).set(w.hospitalFinance.auth).send({ disbursementId: second.id });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: expect.stringContaining('entry-repeats-imported-entry') });
    expect(refused.body.detail).toContain(intraday.body.id);
    expect(await disbursementStatus(second.id)).toBe('paid');
    expect(await appStatus(grant.id)).toBe('disbursing');

    // Unmatched by hand, the first import can be matched by hand again (to either tranche); its repeat still cannot.
    const [original] = await items(intraday.body.id);
    await t.http.post(`${API}/reconciliation/entries/${original.id}/unmatch`).set(w.hospitalFinance.auth).expect(200);
    await t.http.post(`${API}/reconciliation/entries/${repeat.id}/match`).set(w.hospitalFinance.auth).send({ disbursementId: first.id }).expect(409);
    await t.http.post(`${API}/reconciliation/entries/${original.id}/match`).set(w.hospitalFinance.auth).send({ disbursementId: second.id }).expect(200);
    expect([await disbursementStatus(first.id), await disbursementStatus(second.id)]).toEqual(['paid', 'reconciled']);
  });

  it('two credits of one day and amount naming different tranches are two entries, under a placeholder or a reused end-to-end id', async () => {
    const tranches = [];
    for (let i = 0; i < 4; i++) tranches.push((await paidGrant(10_000_000)).tranche);
    // NONREF: camt.053 converted from MT940; a payer's batch id reused for every transfer of the day.
    const lines = tranches.map((tranche, i): StatementLine => ({ amount: '100000.00', endToEndId: i < 2 ? 'NONREF' : 'PAYER-BATCH-0915', remittance: `Sprout ${tranche.reference}` }));
    const res = await upload(camt053(lines, { statementId: 'INTRADAY-E2E' }));
    expect(res.body).toMatchObject({ entries: 4, matched: 4, duplicates: 0 });
    expect((await items(res.body.id)).map((i) => i.disbursementId)).toEqual(tranches.map((tranche) => tranche.id));
    // The end-of-day statement repeats each of them: four repeats, nothing matched twice.
    const endOfDay = await upload(camt053(lines, { statementId: 'EOD-E2E' }));
    expect(endOfDay.body).toMatchObject({ entries: 4, matched: 0, duplicates: 4 });
  });

  it('a statement imported before fingerprints took in the references: its entries are still repeated, and only by the same transfers', async () => {
    const [a, b, spare] = [(await paidGrant()).tranche, (await paidGrant()).tranche, (await paidGrant()).tranche];
    const line = (tranche: Record<string, any>): StatementLine => ({ amount: '30000.00', endToEndId: 'NONREF', remittance: `Sprout ${tranche.reference}`, bookingDate: '2026-09-15' });
    const intraday = await upload(camt053([line(a)], { statementId: 'INTRADAY-FORMER' }));
    expect(intraday.body.matched).toBe(1);
    // Stored as the import before the change stored it: the end-to-end id (even NONREF), the day, direction, currency and amount.
    const former = `id:${createHash('sha256').update(JSON.stringify(['e2e', 'NONREF', '2026-09-15', 'CRDT', 'CNY', '3000000'])).digest('hex')}`;
    await t.dataSource.query(`UPDATE statement_fingerprints SET fingerprint = $2 WHERE statement_id = $1`, [intraday.body.id, former]);
    await t.dataSource.query(`UPDATE statement_entries SET fingerprint = $2 WHERE statement_id = $1`, [intraday.body.id, former]);

    const endOfDay = await upload(camt053([line(a), line(b)], { statementId: 'EOD-FORMER' }));
    expect(endOfDay.body).toMatchObject({ entries: 2, matched: 1, duplicates: 1 });
    const [repeat, other] = await items(endOfDay.body.id);
    expect(repeat).toMatchObject({ status: 'duplicate', reason: 'the same bank entry was already imported', disbursementId: a.id });
    expect(other).toMatchObject({ status: 'matched', disbursementId: b.id });
    // The repeat cannot pay another tranche by hand, nor can its repeat in a later file.
    const refused = await t.http.post(`${API}/reconciliation/entries/${repeat.id}/match`).set(w.hospitalFinance.auth).send({ disbursementId: spare.id });
    expect([refused.status, refused.body.type]).toEqual([409, expect.stringContaining('entry-repeats-imported-entry')]);
    expect(refused.body.detail).toContain(intraday.body.id);
    const later = await upload(camt053([line(a)], { statementId: 'MONTH-FORMER' }));
    expect(later.body).toMatchObject({ entries: 1, duplicates: 1 });
    expect(await disbursementStatus(spare.id)).toBe('paid');
  });

  it('a credit the former fingerprint took for a repeat of another tranche\'s credit can be matched by hand', async () => {
    const { tranche: a } = await paidGrant();
    const later = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 3_000_000 });
    const [b] = await tranchesOf(later);
    const line = (tranche: Record<string, any>): StatementLine => ({ amount: '30000.00', endToEndId: 'NONREF', remittance: `Sprout ${tranche.reference}`, bookingDate: '2026-09-15' });
    const res = await upload(camt053([line(a), line(b)]));
    // As the import before the change stored it: b's credit a duplicate of a's, under their shared fingerprint.
    const former = `id:${createHash('sha256').update(JSON.stringify(['e2e', 'NONREF', '2026-09-15', 'CRDT', 'CNY', '3000000'])).digest('hex')}`;
    const [, credit] = await items(res.body.id);
    await t.dataSource.transaction(async (tx) => {
      await tx.query(`DELETE FROM statement_fingerprints WHERE statement_id = $1 AND first_position = 1`, [res.body.id]);
      await tx.query(`UPDATE statement_fingerprints SET fingerprint = $2 WHERE statement_id = $1`, [res.body.id, former]);
      await tx.query(`UPDATE statement_entries SET fingerprint = $2 WHERE statement_id = $1`, [res.body.id, former]);
      await tx.query(`UPDATE statement_entries SET status = 'duplicate', reason = 'the same bank entry was already imported' WHERE id = $1`, [credit.id]);
      await tx.query(`UPDATE bank_statements SET unmatched = unmatched - 1, duplicates = duplicates + 1 WHERE id = $1`, [res.body.id]);
    });
    await pay(b.id);
    const matched = await t.http.post(`${API}/reconciliation/entries/${credit.id}/match`).set(w.hospitalFinance.auth).send({ disbursementId: b.id });
    expect(matched.status).toBe(200);
    expect(await disbursementStatus(b.id)).toBe('reconciled');
  });

  it('a stalled upload holds no database connection and no import lock: another import of the hospital goes through', async () => {
    const { tranche } = await paidGrant();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const file = camt053([{ amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'SLOW-1' }]);
    const boundary = `sprout-${randomUUID()}`;
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.xml"\r\nContent-Type: application/xml\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const slow = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: `${API}/reconciliation/statements`,
      headers: { ...w.hospitalFinance.auth, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': head.length + file.length + tail.length },
    });
    const slowResponse = new Promise<{ status: number; body: Record<string, any> }>((resolve, reject) => {
      slow.on('error', reject);
      slow.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) }));
      });
    });
    try {
      slow.write(Buffer.concat([head, file.subarray(0, file.length >> 1)]));
      // Until the server holds the half it was sent (a fixed sleep could check before the upload arrived).
      await untilSpooled(spoolDir);
      // The hospital's import lock (pg_advisory_xact_lock(727005, …)) is not held while the client is silent …
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
          WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.classid = 727005`);
      expect(n).toBe(0);
      // … so another statement of the same hospital imports meanwhile, instead of waiting for the stalled one.
      const other = await upload(camt053([{ amount: '10.00', accountServicerReference: 'OTHER-1' }])).timeout(15_000);
      expect(other.status).toBe(201);
      slow.end(Buffer.concat([file.subarray(file.length >> 1), tail]));
      const done = await slowResponse;
      expect(done.status).toBe(201);
      expect(done.body.matched).toBe(1);
      expect(await disbursementStatus(tranche.id)).toBe('reconciled');
    } finally {
      slow.destroy();
    }
  });

  it('an upload while another import of the hospital runs long: 409 import-in-progress with Retry-After, not a 500 after statement_timeout', async () => {
    const { tranche } = await paidGrant();
    const file = camt053([{ amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'BUSY-1' }]);
    // A long import holds the hospital's turn (pg_advisory_xact_lock(727005, hashtext(hospital id))); so does this session.
    const holder = t.dataSource.createQueryRunner();
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(727005, hashtext($1))', [w.hospital.id]);
      const busy = await upload(file).timeout(20_000);
      expect(busy.status).toBe(409);
      expect(busy.body.type).toContain('import-in-progress');
      expect(busy.headers['retry-after']).toBe('30');
      expect(await statementCount()).toEqual({ s: 0, e: 0 });
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      await holder.release();
    }
    // Once its turn is free, the same file imports, and the import's own locks wait as usual (no lock_timeout left).
    const res = await upload(file);
    expect(res.status).toBe(201);
    expect(await disbursementStatus(tranche.id)).toBe('reconciled');
  });

  it("a statement of another account than the hospital's is refused (422), nothing stored; an account paid into before still counts", async () => {
    const { tranche } = await paidGrant();
    const line: StatementLine = { amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'ACCT-1' };
    // Fund finance files hospital B's statement under this hospital by mistake.
    const misfiled = await upload(camt053([line], { account: '6217000000007919' }), w.finance, w.hospital.id);
    expect(misfiled.status).toBe(422);
    expect(misfiled.body).toMatchObject({ type: expect.stringContaining('statement-account-mismatch'), errors: [{ field: 'file', message: expect.any(String) }] });
    expect(misfiled.body.detail).toContain('ending 7919');
    expect(await statementCount()).toEqual({ s: 0, e: 0 });
    expect(await disbursementStatus(tranche.id)).toBe('paid');

    // The hospital changes bank; a statement of the old account (the tranche was paid into it) still imports,
    // written as banks write it (spaces, lower case are the same account).
    const hospital = (await t.http.get(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).expect(200)).body;
    await t.http.patch(`${API}/hospitals/${w.hospital.id}`).set(w.admin.auth).send({ bankAccount: { ...hospital.bankAccount, accountNumber: '9559980012345678' } }).expect(200);
    const old = await upload(camt053([line], { account: TEST_HOSPITAL_ACCOUNT.replace(/(\d{4})/g, '$1 ') }));
    expect(old.status).toBe(201);
    expect(old.body).toMatchObject({ matched: 1 });
    // And one of the new account, with nothing paid into it yet.
    const current = await upload(camt053([{ amount: '10.00', accountServicerReference: 'ACCT-2' }], { account: '9559980012345678' }));
    expect(current.status).toBe(201);

    expect(current.body.statementsLeftOut).toEqual([]);

    // A bank's export of several accounts in one file: the hospital's statement is imported, another account's is left
    // out (its entries are not this hospital's to see or match) ...
    const bundle = (a: Buffer, b: Buffer) => Buffer.from(a.toString().replace('</Stmt>', `</Stmt>${/<Stmt>[\s\S]*<\/Stmt>/.exec(b.toString())![0]}`));
    // (two statements of the foreign account, one line for it)
    const bothFile = bundle(
      bundle(
        camt053([{ amount: '11.00', accountServicerReference: 'ACCT-3' }, { amount: '11.50', accountServicerReference: 'ACCT-3B' }], { account: '6217000000000001' }),
        camt053([{ amount: '12.00', accountServicerReference: 'ACCT-4' }], { account: '9559980012345678' }),
      ),
      camt053([{ amount: '11.75', accountServicerReference: 'ACCT-3C' }], { account: '6217 0000 0000 0001' }),
    );
    const both = await upload(bothFile);
    expect(both.status).toBe(201);
    // The same file again is 409, and says what its first import left out and how to import it.
    const again = await upload(bothFile);
    expect([again.status, again.body.statementsLeftOut]).toEqual([409, [{ accountEnding: '0001', entries: 3 }]]);
    expect(again.body.detail).toMatch(/ending 0001 were left out.*upload that account's statement on its own/);
    expect(both.body).toMatchObject({ entries: 1, account: '9559980012345678', statementsLeftOut: [{ accountEnding: '0001', entries: 3 }] });
    const stored = (await t.dataSource.query(`SELECT account_servicer_reference AS ref FROM statement_entries WHERE statement_id = $1`, [both.body.id])) as { ref: string }[];
    expect(stored.map((e) => e.ref)).toEqual(['ACCT-4']);
    const [imported] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE action = 'reconciliation.statement_imported' AND object_id = $1`, [both.body.id]);
    expect(imported.summary).toMatchObject({ entries: 1, statementsLeftOut: [{ accountEnding: '0001', entries: 3 }] });
    // ... and is refused, whole, when none is.
    const neither = await upload(
      bundle(camt053([{ amount: '13.00', accountServicerReference: 'ACCT-5' }], { account: '6217000000000001' }), camt053([{ amount: '14.00', accountServicerReference: 'ACCT-6' }], { account: '6217000000000002' })),
    );
    expect(neither.status).toBe(422);
    expect(neither.body.detail).toContain('ending 0001');
    expect((await statementCount()).s).toBe(3);
  });

  it('concurrent uploads of one file: one import, the others 409', async () => {
    const { tranche } = await paidGrant();
    const xml = camt053([{ amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'C-1' }]);
    const responses = await Promise.all(Array.from({ length: 5 }, () => upload(xml)));
    expect(responses.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    expect((await statementCount()).s).toBe(1);
    expect(await disbursementStatus(tranche.id)).toBe('reconciled');
  });

  it('an import racing a manual match of the same tranche: exactly one entry reconciles it', async () => {
    await splitInTwo();
    for (let round = 0; round < 3; round++) {
      const { tranche } = await paidGrant(6_000_000);
      const a = await upload(csvStatement([{ amount: '30000.00', remittance: `no reference ${round}` }]), w.hospitalFinance, undefined, `a${round}.csv`);
      const [entry] = await items(a.body.id);
      const filler = Array.from({ length: 3000 }, (_, i) => ({ amount: '1.00', accountServicerReference: `F-${round}-${i}` }));
      const [manual, imported] = await Promise.all([
        t.http.post(`${API}/reconciliation/entries/${entry.id}/match`).set(w.finance.auth).send({ disbursementId: tranche.id }),
        upload(camt053([...filler, { amount: '30000.00', remittance: tranche.reference, accountServicerReference: `R-${round}` }])),
      ]);
      expect([200, 409]).toContain(manual.status);
      expect(imported.status).toBe(201);
      const matched = await t.dataSource.query(`SELECT id FROM statement_entries WHERE disbursement_id = $1 AND status = 'matched'`, [tranche.id]);
      expect(matched).toHaveLength(1);
      expect(imported.body.matched + (manual.status === 200 ? 1 : 0)).toBe(1);
      expect(await disbursementStatus(tranche.id)).toBe('reconciled');
    }
  });

  it('within one statement the second entry with the same reference is a duplicate', async () => {
    const { tranche } = await paidGrant();
    const res = await upload(csvStatement([
      { amount: '30000.00', remittance: tranche.reference },
      { amount: '30000.00', remittance: `again ${tranche.reference}` },
    ]), w.hospitalFinance, undefined, 'a.csv');
    expect(res.body).toMatchObject({ entries: 2, matched: 1, duplicates: 1 });
    const list = await items(res.body.id);
    expect(list.map((i) => [i.status, i.disbursementId])).toEqual([['matched', tranche.id], ['duplicate', tranche.id]]);
  });

  it('a mismatched amount is flagged, the tranche stays paid, and hospital finance is emailed', async () => {
    const { tranche } = await paidGrant(2_000_000);
    const res = await upload(camt053([{ amount: '29999.99', remittance: tranche.reference, accountServicerReference: 'X-1' }]));
    expect(res.body).toMatchObject({ entries: 1, matched: 0, mismatched: 1 });
    const [item] = await items(res.body.id);
    expect(item).toMatchObject({ status: 'mismatched', disbursementId: tranche.id, reference: tranche.reference, amount: 2_999_999 });
    expect(await disbursementStatus(tranche.id)).toBe('paid');
    const mail = await t.mail.waitFor((m) => m.to.includes(w.hospitalFinance.email) && m.text.includes(res.body.id));
    expect(mail.text).toMatch(/another amount or money sent back:\s+1/);
  });

  it('a credit of another amount is mismatched and emailed, even for a tranche already reconciled or matched earlier in the file', async () => {
    const { tranche } = await paidGrant(5_000_000);
    expect((await upload(camt053([{ amount: '50000.00', remittance: tranche.reference, accountServicerReference: 'AM-1' }]))).body.matched).toBe(1);
    const small = await upload(camt053([{ amount: '500.00', remittance: tranche.reference, accountServicerReference: 'AM-2' }]));
    expect(small.body).toMatchObject({ entries: 1, matched: 0, mismatched: 1, duplicates: 0 });
    expect((await items(small.body.id))[0]).toMatchObject({ status: 'mismatched', disbursementId: tranche.id, reason: expect.stringContaining('differs') });
    const mail = await t.mail.waitFor((m) => m.to.includes(w.hospitalFinance.email) && m.text.includes(small.body.id));
    expect(mail.text).toMatch(/another amount or money sent back:\s+1/);

    const { tranche: other } = await paidGrant(5_000_000);
    const both = await upload(csvStatement([{ amount: '50000.00', remittance: other.reference }, { amount: '500.00', remittance: other.reference }]), w.hospitalFinance, undefined, 'both.csv');
    expect(both.body).toMatchObject({ entries: 2, matched: 1, mismatched: 1, duplicates: 0 });
  });

  it("a pending camt.053 entry without BookgDt is kept, as ignored, under the statement's date", async () => {
    const { tranche } = await paidGrant();
    const res = await upload(camt053([
      { amount: '30000.00', remittance: tranche.reference, status: 'PDNG', bookingDate: null, accountServicerReference: 'PD-1' },
      { amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'BK-1' },
    ]));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ entries: 2, matched: 1, ignored: 1 });
    const [pending, booked] = await items(res.body.id);
    expect(pending).toMatchObject({ status: 'ignored', bookingDate: '2026-09-16', valueDate: null, reason: 'not booked (status PDNG)' });
    expect(booked).toMatchObject({ status: 'matched', disbursementId: tranche.id });
  });

  it('a CSV statement writing the yuan as RMB, as Chinese banks do, reconciles the tranche it pays', async () => {
    const { tranche } = await paidGrant(1_200_000);
    const res = await upload(csvStatement([{ amount: '12000.00', currency: 'RMB', remittance: tranche.reference }]), w.hospitalFinance, undefined, 'rmb.csv');
    expect(res.body).toMatchObject({ entries: 1, matched: 1, ignored: 0 });
    expect(await disbursementStatus(tranche.id)).toBe('reconciled');
  });

  it('debits, other currencies, reversals and pending entries never match, even with the reference and amount', async () => {
    const { tranche } = await paidGrant(2_000_000);
    const res = await upload(camt053([
      { amount: '30000.00', remittance: tranche.reference, creditDebit: 'DBIT', accountServicerReference: 'D-1' },
      { amount: '30000.00', remittance: tranche.reference, currency: 'EUR', accountServicerReference: 'E-1' },
      { amount: '30000.00', remittance: tranche.reference, status: 'PDNG', accountServicerReference: 'P-1' },
    ]));
    // The booked CNY debit naming the paid tranche is money that may have gone back: an exception, not ignored.
    expect(res.body).toMatchObject({ entries: 3, matched: 0, unmatched: 2, ignored: 2, mismatched: 1 });
    expect((await items(res.body.id)).map((i) => i.status)).toEqual(['mismatched', 'ignored', 'ignored']);
    expect(await disbursementStatus(tranche.id)).toBe('paid');
    const csv = await upload(csvStatement([{ amount: '-30000.00', remittance: tranche.reference }, { amount: '30000.00', currency: 'USD', remittance: tranche.reference }]), w.hospitalFinance, undefined, 'x.csv');
    expect(csv.body).toMatchObject({ matched: 0, ignored: 1, mismatched: 1 });
    expect(await disbursementStatus(tranche.id)).toBe('paid');
  });

  it('money sent back is an exception: a reversal in the same file keeps the credit from settling; one after completion is flagged, once', async () => {
    const { grant, tranche } = await paidGrant(3_000_000);
    // The credit arrives and the bank takes it back (RvslInd) in the same statement, in either order.
    const both = await upload(camt053([
      { amount: '30000.00', remittance: tranche.reference, creditDebit: 'DBIT', reversal: true, accountServicerReference: 'RV-2' },
      { amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'RV-1' },
    ]));
    expect(both.body).toMatchObject({ entries: 2, matched: 0, mismatched: 2 });
    const [reversal, credit] = await items(both.body.id);
    expect(reversal).toMatchObject({ status: 'mismatched', disbursementId: tranche.id, reason: expect.stringContaining('sent back') });
    expect(credit).toMatchObject({ status: 'mismatched', disbursementId: tranche.id, reason: expect.stringContaining('names the same disbursement') });
    expect(await disbursementStatus(tranche.id)).toBe('paid');
    expect(await appStatus(grant.id)).toBe('disbursing');
    const mail = await t.mail.waitFor((m) => m.to.includes(w.hospitalFinance.email) && m.text.includes(both.body.id));
    expect(mail.text).toMatch(/another amount or money sent back:\s+2/);

    // Reconciled and completed on a later credit; then a statement shows the money going back.
    const { grant: later, tranche: laterTranche } = await paidGrant(2_000_000);
    await upload(camt053([{ amount: '20000.00', remittance: laterTranche.reference, accountServicerReference: 'OK-1' }])).expect(201);
    expect(await appStatus(later.id)).toBe('completed');
    const back = { amount: '20000.00', remittance: `Return ${laterTranche.reference}`, creditDebit: 'DBIT' as const, accountServicerReference: 'BACK-1', bookingDate: '2026-09-20' };
    const taken = await upload(camt053([back], { statementId: 'INTRADAY-BACK' }));
    expect(taken.body).toMatchObject({ entries: 1, mismatched: 1 });
    expect((await items(taken.body.id))[0]).toMatchObject({ status: 'mismatched', disbursementId: laterTranche.id, reason: expect.stringContaining('reconciled disbursement') });
    // What to do is said where it is asked: the entry that reconciled it is unmatched first, and the fund told of a completed grant.
    expect((await items(taken.body.id))[0].reason).toContain('unmatch the entry that reconciled it');
    const refused = await t.http.post(`${API}/disbursements/${laterTranche.id}/return`).set(w.finance.auth).send({ reason: 'bank debit' }).expect(409);
    expect(refused.body).toMatchObject({ currentStatus: 'reconciled', detail: expect.stringContaining('unmatches that entry first') });
    // Money taken back from the fund's payments is the fund's books too: fund finance is emailed with the hospital.
    const toFund = await t.mail.waitFor((m) => m.to.includes(w.finance.email) && m.text.includes(taken.body.id));
    expect(toFund.text).toContain("1 of them are money the bank took back from the fund's payments");
    expect(toFund.text).toContain('cannot be reopened in Sprout');
    // The end-of-day statement repeats it: the same bank entry is one exception, not two.
    const again = await upload(camt053([back], { statementId: 'EOD-BACK' }));
    expect(again.body).toMatchObject({ entries: 1, mismatched: 0, duplicates: 1 });
    const report = (await t.http.get(`${API}/reconciliation/report?from=2026-09-01&to=2026-09-30`).set(w.hospitalFinance.auth).expect(200)).body;
    expect(report.exceptions.mismatched).toEqual({ count: 3, amount: 8_000_000 });
    expect(report.exceptions.duplicates).toEqual({ count: 0, amount: 0 });

    // The debit of a return the fund has recorded means nothing new: ignored, and so is its repeat in a later file.
    const { tranche: returnedTranche } = await paidGrant(1_000_000);
    await t.http.post(`${API}/disbursements/${returnedTranche.id}/return`).set(w.finance.auth).send({ reason: 'Account closed' }).expect(200);
    const refund = { amount: '10000.00', remittance: `Return ${returnedTranche.reference}`, creditDebit: 'DBIT' as const, accountServicerReference: 'REFUND-1', bookingDate: '2026-09-21' };
    for (const statementId of ['NOON-REFUND', 'EOD-REFUND']) {
      const res = await upload(camt053([refund], { statementId }));
      expect(res.body).toMatchObject({ entries: 1, ignored: 1, duplicates: 0, mismatched: 0 });
    }
  });

  it('references of unpaid tranches or of another hospital do not match', async () => {
    const scheduled = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 1_000_000 });
    const [scheduledTranche] = await tranchesOf(scheduled);
    const otherHospital = await createHospital(t, w.admin);
    const other = await approvedGrant(t, { ...w, hospital: otherHospital, family: await signedInUser(t, 'applicant') }, { amount: 2_000_000 });
    const [otherTranche] = await tranchesOf(other);
    await pay(otherTranche.id);
    const res = await upload(csvStatement([
      { amount: '10000.00', remittance: scheduledTranche.reference },
      { amount: '20000.00', remittance: otherTranche.reference },
    ]), w.hospitalFinance, undefined, 's.csv');
    expect(res.body).toMatchObject({ matched: 0, unmatched: 2 });
    expect(await disbursementStatus(otherTranche.id)).toBe('paid');
    expect(await disbursementStatus(scheduledTranche.id)).toBe('scheduled');
    // Money meant for the other hospital may have been paid into this one's account: fund finance is told too.
    for (const who of [w.hospitalFinance, w.finance]) {
      const mail = await t.mail.waitFor((m) => m.to.includes(who.email) && m.text.includes(res.body.id));
      expect(mail.text).toMatch(/1 of them name a payment the fund made to another hospital/);
    }
  });

  it('scopes statements to the hospital: another hospital finance gets 404 (statement, entry) and 403 (naming the hospital)', async () => {
    const { tranche } = await paidGrant();
    const res = await upload(camt053([{ amount: '1.00', accountServicerReference: 'Z-1' }]));
    const otherHospital = await createHospital(t, w.admin);
    const otherFinance = await signedInUser(t, 'hospital_finance', { hospitalId: otherHospital.id });
    await t.http.get(`${API}/reconciliation/statements/${res.body.id}`).set(otherFinance.auth).expect(404);
    await t.http.get(`${API}/reconciliation/statements/${randomUUID()}`).set(w.hospitalFinance.auth).expect(404);
    const [entry] = await items(res.body.id);
    await t.http.post(`${API}/reconciliation/entries/${entry.id}/match`).set(otherFinance.auth).send({ disbursementId: tranche.id }).expect(404);
    await t.http.post(`${API}/reconciliation/entries/${entry.id}/unmatch`).set(otherFinance.auth).expect(404);
    expect((await t.http.get(`${API}/reconciliation/statements`).set(otherFinance.auth).expect(200)).body.items).toEqual([]);
    expect((await t.http.get(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).expect(200)).body.items).toHaveLength(1);
    await t.http.get(`${API}/reconciliation/statements?hospitalId=${w.hospital.id}`).set(otherFinance.auth).expect(403);
    const foreign = await upload(camt053([{ amount: '1.00' }]), otherFinance, w.hospital.id);
    expect(foreign.status).toBe(403);
    await t.http.get(`${API}/reconciliation/statements/${res.body.id}`).set(w.family.auth).expect(403);
    await t.http.get(`${API}/reconciliation/statements/${res.body.id}`).set(w.finance.auth).expect(200);
    expect((await statementCount()).s).toBe(1);
  });

  it.each([
    ['text that is not XML or CSV', Buffer.from('Dear finance office, this is not a statement\n'), /line 1/],
    ['XML in a wrong namespace', Buffer.from('<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"><BkToCstmrAcctRpt/></Document>'), /line 2.*Document|Document.*line 2|namespace/],
    ['broken XML', Buffer.from('<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">\n<BkToCstmrStmt><Stmt>\n</Document>'), /line \d+/],
    ['a camt.053 amount with three decimals', camt053([{ amount: '10.00' }, { amount: '12.345' }]), /Ntry\[2\]\/Amt/],
    ['a camt.053 without statements', Buffer.from('<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>1</MsgId><CreDtTm>2026-09-16T08:00:00Z</CreDtTm></GrpHdr></BkToCstmrStmt></Document>'), /Stmt|statement/i],
    ['a CSV missing a column', Buffer.from('date,amount,currency,reference,counterparty\n2026-09-15,10.00,CNY,,x\n'), /line 1/],
    ['a CSV with a bad amount on line 3', Buffer.from('date,amount,currency,reference,counterparty,description\n2026-09-15,10.00,CNY,,x,y\n2026-09-15,1O.00,CNY,,x,y\n'), /line 3/],
    ['a CSV with a bad date', Buffer.from('date,amount,currency,reference,counterparty,description\n2026-02-30,10.00,CNY,,x,y\n'), /line 2/],
    ['a CSV with a bad amount after a CRLF in a quoted field', Buffer.from('date,amount,currency,reference,counterparty,description\r\n2026-09-15,10.00,CNY,,x,"two\r\nlines"\r\n2026-09-15,1O.00,CNY,,x,y\r\n'), /line 4\b/],
    ['an empty file', Buffer.alloc(0), /line 1/],
    ['a camt.053 cut short in its declaration', camt053([{ amount: '10.00' }]).subarray(0, 49), /not well-formed XML/],
  ])('refuses %s with 400 naming where, storing nothing', async (_, file, where) => {
    const { tranche } = await paidGrant();
    const res = await upload(file);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.type).toContain('malformed-statement');
    expect(`${res.body.detail} ${res.body.location}`).toMatch(where);
    expect(res.body.detail).not.toContain('..'); // a parser's own full stop is not doubled
    expect(res.body.line).toEqual(expect.any(Number));
    expect(await statementCount()).toEqual({ s: 0, e: 0 });
    expect(await disbursementStatus(tranche.id)).toBe('paid');
  });

  it('a parse error after thousands of good entries (and a match) leaves nothing behind', async () => {
    const { tranche } = await paidGrant();
    const good = Array.from({ length: 2500 }, (_, i) => ({ amount: '1.00', accountServicerReference: `G-${i}` }));
    const file = camt053([{ amount: '30000.00', remittance: tranche.reference }, ...good, { amount: 'abc' }]);
    const res = await upload(file);
    expect(res.status).toBe(400);
    expect(res.body.element).toMatch(/Ntry\[2502\]\/Amt/);
    expect(await statementCount()).toEqual({ s: 0, e: 0 });
    expect(await disbursementStatus(tranche.id)).toBe('paid');
  });

  it('a file that is no statement at all (a PDF, a workbook, an image) is 415 saying what it is; one nested absurdly deep is 400 at once', async () => {
    const files: [string, Buffer, RegExp][] = [
      ['statement.pdf', Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\n'), /a PDF document/],
      ['statement.xlsx', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(64)]), /Excel \.xlsx workbook.*save the sheet as CSV/],
      ['statement.xls', Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(64)]), /Excel \.xls workbook/],
      ['scan.png', Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(64)]), /a PNG image/],
    ];
    for (const [name, file, says] of files) {
      const res = await upload(file, w.hospitalFinance, undefined, name);
      expect([res.status, res.body.type]).toEqual([415, 'https://sprout.example.org/problems/unsupported-statement-format']);
      expect(res.body.detail).toMatch(says);
      expect(res.body.errors).toEqual([{ field: 'file', message: expect.stringMatching(/not a camt\.053 or CSV statement$/) }]);
    }
    const depth = 40_000; // 280 KB: unchecked, the service froze for a minute and then ran out of heap
    const deep = Buffer.from(camt053([{ amount: '1.00' }]).toString('utf8').replace('<Ntry>', `<Ntry>${'<X>'.repeat(depth)}${'</X>'.repeat(depth)}`));
    const refused = await upload(deep);
    expect([refused.status, refused.body.type]).toEqual([400, 'https://sprout.example.org/problems/malformed-statement']);
    expect(refused.body.detail).toContain('elements are nested more than 64 deep');
    expect(await statementCount()).toEqual({ s: 0, e: 0 });
  });

  it('imports the two real camt.053 files with every entry unmatched (they are in EUR)', async () => {
    // Their account (NL26VAYB8060476890), as a hospital's account on record: a statement of another account is refused.
    const dutch = await createHospital(t, w.admin);
    await t.http.patch(`${API}/hospitals/${dutch.id}`).set(w.admin.auth).send({ bankAccount: { bankName: 'VAYB', accountName: 'Fixture', accountNumber: 'NL26VAYB8060476890' } }).expect(200);
    for (const name of ['camt053.v2.minimal.xml', 'camt053.v4.xml']) {
      const file = readFileSync(join(CAMT053_FIXTURES, name));
      const expected = JSON.parse(readFileSync(join(CAMT053_FIXTURES, name.replace('.xml', '.expected.json')), 'utf8')) as { getEntries: unknown[] };
      expect((await upload(file, w.finance, w.hospital.id, name)).status).toBe(422);
      const res = await upload(file, w.finance, dutch.id, name);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ format: 'camt.053', entries: expected.getEntries.length, matched: 0, unmatched: expected.getEntries.length, mismatched: 0, duplicates: 0 });
      const list = await items(res.body.id, w.finance);
      expect(list).toHaveLength(expected.getEntries.length);
      for (const item of list) {
        expect(['unmatched', 'ignored']).toContain(item.status);
        expect(item.disbursementId).toBeNull();
      }
    }
    expect(t.mail.received.filter((m) => m.to.includes(w.hospitalFinance.email))).toHaveLength(0);
  });

  it('asks fund finance for the hospital, before or after the file, and refuses other fields, a missing file and non-multipart bodies', async () => {
    const file = csvStatement([{ amount: '1.00' }]);
    const noHospital = await upload(file, w.finance);
    expect(noHospital.status).toBe(400);
    expect(noHospital.body.errors).toEqual([expect.objectContaining({ field: 'hospitalId' })]);
    await upload(file, w.finance, randomUUID()).expect(400);
    const extra = await t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).field('note', 'x').attach('file', file, 'a.csv');
    expect(extra.status).toBe(400);
    await t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).field('hospitalId', w.hospital.id).expect(400);
    // Too many of either is named in the service's words, not busboy's ("reach files limit", "reach fields limit").
    const twoFiles = await t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).attach('file', file, 'a.csv').attach('file', file, 'b.csv');
    expect([twoFiles.status, twoFiles.body.type, twoFiles.body.detail]).toEqual([413, expect.stringMatching(/\/too-many-files$/), expect.stringContaining('send each statement')]);
    const fields = await t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).field('a', '1').field('b', '2').field('c', '3').attach('file', file, 'a.csv');
    expect([fields.status, fields.body.errors]).toEqual([400, [expect.objectContaining({ field: 'c', message: expect.stringContaining('one field too many') })]]);
    await t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).send({ file: 'x' }).expect(415);
    // Two hospitals named: which one was meant is not guessed (the last one used to win).
    const other = await createHospital(t, w.admin);
    const twice = await t.http.post(`${API}/reconciliation/statements`).set(w.finance.auth).field('hospitalId', w.hospital.id).field('hospitalId', other.id).attach('file', file, 'a.csv');
    expect([twice.status, twice.body.errors]).toEqual([400, [{ field: 'hospitalId', message: 'is given more than once' }]]);
    await upload(file, w.reviewer).expect(403);
    await upload(file, w.family).expect(403);
    expect(await statementCount()).toEqual({ s: 0, e: 0 });

    // A form field's place in the body is the client's choice (the file is read to disk before anything else).
    const after = await t.http.post(`${API}/reconciliation/statements`).set(w.finance.auth).attach('file', file, 'a.csv').field('hospitalId', w.hospital.id);
    expect(after.status).toBe(201);
    expect((await t.dataSource.query(`SELECT hospital_id FROM bank_statements WHERE id = $1`, [after.body.id]))[0].hospital_id).toBe(w.hospital.id);
    expect(await statementCount()).toEqual({ s: 1, e: 1 });
  });

  it('manual match and unmatch: only a booked CNY credit of the same amount and hospital, to a paid tranche; audited', async () => {
    const { grant, tranche } = await paidGrant(3_000_000);
    const { tranche: small } = await paidGrant(500_000);
    const otherHospital = await createHospital(t, w.admin);
    const other = await approvedGrant(t, { ...w, hospital: otherHospital, family: await signedInUser(t, 'applicant') }, { amount: 3_000_000 });
    const [otherTranche] = await tranchesOf(other);
    await pay(otherTranche.id);
    const scheduled = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount: 3_000_000 });
    const [scheduledTranche] = await tranchesOf(scheduled);

    const res = await upload(camt053([
      { amount: '30000.00', remittance: 'transfer without reference', accountServicerReference: 'M-1' },
      { amount: '30000.00', currency: 'EUR', accountServicerReference: 'M-2' },
      { amount: '30000.00', creditDebit: 'DBIT', accountServicerReference: 'M-3' },
    ]));
    const [credit, eur, debit] = await items(res.body.id);
    const match = (entryId: string, disbursementId: string, who: SignedIn = w.hospitalFinance) =>
      t.http.post(`${API}/reconciliation/entries/${entryId}/match`).set(who.auth).send({ disbursementId });

    expect((await match(eur.id, tranche.id)).status).toBe(422);
    expect((await match(debit.id, tranche.id)).status).toBe(422);
    const wrongAmount = await match(credit.id, small.id);
    expect(wrongAmount.status).toBe(422);
    expect(wrongAmount.body.type).toContain('amount-mismatch');
    expect((await match(credit.id, otherTranche.id)).status).toBe(404); // hospital finance cannot see it
    const otherByFinance = await match(credit.id, otherTranche.id, w.finance);
    expect(otherByFinance.status).toBe(422);
    expect(otherByFinance.body.type).toContain('hospital-mismatch');
    expect((await match(credit.id, scheduledTranche.id)).status).toBe(409);
    await match(credit.id, randomUUID()).expect(404);
    await t.http.post(`${API}/reconciliation/entries/${credit.id}/match`).set(w.hospitalFinance.auth).send({}).expect(400);

    const ok = await match(credit.id, tranche.id);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'matched', disbursementId: tranche.id, matchKind: 'manual', reference: tranche.reference });
    expect(await disbursementStatus(tranche.id)).toBe('reconciled');
    expect(await appStatus(grant.id)).toBe('completed');
    expect((await match(credit.id, tranche.id)).status).toBe(409);
    const stmt = (await t.http.get(`${API}/reconciliation/statements/${res.body.id}`).set(w.hospitalFinance.auth).expect(200)).body;
    expect(stmt).toMatchObject({ matched: 1, unmatched: 2, ignored: 2 });

    // Completed is final: the match cannot be undone there.
    const locked = await t.http.post(`${API}/reconciliation/entries/${credit.id}/unmatch`).set(w.hospitalFinance.auth);
    expect(locked.status).toBe(409);
    expect(locked.body.type).toContain('application-completed');
    const actions = (await t.dataSource.query(`SELECT action FROM audit_events WHERE object_id = $1`, [credit.id])).map((a: { action: string }) => a.action);
    expect(actions).toEqual(['reconciliation.entry_matched']);
  });

  it('a credit short or over by a bank fee is matched by hand with its reason; a larger difference is refused, to be resolved instead', async () => {
    const { grant, tranche } = await paidGrant(2_500_050);
    await splitInTwo();
    const { first: big } = await bothTranchesPaid(9_000_000); // matching one leaves its grant disbursing: unmatch works
    const res = await upload(camt053([
      { amount: '25000.00', remittance: `SPR ${tranche.reference.slice(4).replace(/-/g, ' ')}`, accountServicerReference: 'FEE-1', bookingDate: '2026-09-10' },
      { amount: '45001.00', remittance: big.reference, accountServicerReference: 'FEE-2', bookingDate: '2026-09-10' },
      { amount: '44000.00', remittance: big.reference, accountServicerReference: 'FEE-3', bookingDate: '2026-09-10' },
    ]));
    const [short, over, far] = await items(res.body.id);
    expect([short.status, over.status, far.status]).toEqual(['mismatched', 'mismatched', 'mismatched']);
    const match = (entryId: string, body: object) => t.http.post(`${API}/reconciliation/entries/${entryId}/match`).set(w.hospitalFinance.auth).send(body);

    const unexplained = await match(short.id, { disbursementId: tranche.id });
    expect([unexplained.status, unexplained.body.type]).toEqual([422, expect.stringContaining('amount-mismatch')]);
    expect(unexplained.body.detail).toContain('differenceReason');
    // Of a ¥45,000 tranche ¥1 over may be a fee; ¥1,000 short is beyond 1% (¥450).
    const tooFar = await match(far.id, { disbursementId: big.id, differenceReason: 'fee' });
    expect([tooFar.status, tooFar.body.detail]).toEqual([422, expect.stringContaining('at most 45000 fen')]);
    await match(short.id, { disbursementId: tranche.id, differenceReason: 'The bank deducted its fee of ¥0.50' }).expect(200);
    expect(await disbursementStatus(tranche.id)).toBe('reconciled');
    expect(await appStatus(grant.id)).toBe('completed');
    const matched = (await items(res.body.id))[0];
    expect(matched).toMatchObject({ status: 'matched', matchNote: 'The bank deducted its fee of ¥0.50', amount: 2_500_000, resolution: null });
    const [event] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action = 'reconciliation.entry_matched'`, [short.id]);
    expect(event.summary).toMatchObject({ amount: 2_500_050, entryAmount: 2_500_000, difference: -50, differenceReason: 'The bank deducted its fee of ¥0.50' });
    await match(over.id, { disbursementId: big.id, differenceReason: 'Paid ¥1 too much by the bank; refunded separately' }).expect(200);
    // An unmatch clears the note.
    await t.http.post(`${API}/reconciliation/entries/${over.id}/unmatch`).set(w.hospitalFinance.auth).expect(200);
    expect((await items(res.body.id))[1]).toMatchObject({ status: 'unmatched', matchNote: null });
  });

  it('an exception that needs nothing more is resolved with a note: it leaves the report, stays listed with its note, and can be reopened', async () => {
    const { tranche } = await paidGrant(1_200_000);
    const res = await upload(camt053([
      { amount: '2.00', creditDebit: 'DBIT', remittance: `汇入手续费 ${tranche.reference}`, accountServicerReference: 'R-1', bookingDate: '2026-09-12' },
      { amount: '300.00', remittance: 'SPR-2026-999999-1', accountServicerReference: 'R-2', bookingDate: '2026-09-12' },
    ]));
    const [fee, stranger] = await items(res.body.id);
    expect(fee.status).not.toBe('matched');
    const report = async () => (await t.http.get(`${API}/reconciliation/report?from=2026-09-01&to=2026-09-30`).set(w.hospitalFinance.auth).expect(200)).body;
    expect((await report()).exceptions.total.count).toBe(2);
    const resolve = (entryId: string, body: object, who: SignedIn = w.hospitalFinance) => t.http.post(`${API}/reconciliation/entries/${entryId}/resolve`).set(who.auth).send(body);

    await resolve(stranger.id, {}).expect(400);
    const resolved = await resolve(stranger.id, { note: 'A patient family paid a bill quoting an old reference; nothing for the fund.' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'unmatched', resolution: { note: expect.stringContaining('old reference'), resolvedBy: w.hospitalFinance.id, resolvedAt: expect.any(String) } });
    expect((await resolve(stranger.id, { note: 'again' })).body.type).toContain('entry-already-resolved');
    const after = await report();
    expect(after.exceptions.total.count).toBe(1);
    expect(after.resolvedExceptions).toEqual({ count: 1, amount: 30_000 });
    // Listed as it was, with its note; the open ones apart.
    const open = (await t.http.get(`${API}/reconciliation/statements/${res.body.id}?resolved=false`).set(w.hospitalFinance.auth).expect(200)).body.items;
    expect(open.map((i: { id: string }) => i.id)).toEqual([fee.id]);
    // Another hospital's finance office cannot; a matched entry is no exception.
    const otherFinance = await signedInUser(t, 'hospital_finance', { hospitalId: (await createHospital(t, w.admin)).id });
    expect((await resolve(fee.id, { note: 'x' }, otherFinance)).status).toBe(404);
    const exact = await upload(camt053([{ amount: '12000.00', remittance: tranche.reference, accountServicerReference: 'R-3', bookingDate: '2026-09-13' }]));
    const [paidEntry] = await items(exact.body.id);
    expect(paidEntry.status).toBe('matched');
    expect((await resolve(paidEntry.id, { note: 'x' })).body.type).toContain('entry-not-exception');

    // A credit naming nothing of the fund's was never an exception: resolved, it stays among the unnamed credits.
    // A repeat of an entry already imported closes nothing: refused, pointing at the first import.
    const more = await upload(camt053([
      { amount: '12.34', remittance: 'patient bill', accountServicerReference: 'R-4', bookingDate: '2026-09-12' },
      { amount: '300.00', remittance: 'SPR-2026-999999-1', accountServicerReference: 'R-2', bookingDate: '2026-09-12' },
    ]));
    const [bill, repeat] = await items(more.body.id);
    expect(repeat.status).toBe('duplicate');
    expect((await resolve(repeat.id, { note: 'the same transfer' })).body.type).toContain('entry-repeats-imported-entry');
    const unnamedBefore = (await report()).unnamedCredits;
    await resolve(bill.id, { note: 'a patient paid a bill' }).expect(200);
    expect((await report())).toMatchObject({ unnamedCredits: unnamedBefore, resolvedExceptions: { count: 1, amount: 30_000 } });

    await t.http.post(`${API}/reconciliation/entries/${stranger.id}/reopen`).set(w.finance.auth).expect(200);
    expect((await report()).exceptions.total.count).toBe(2);
    expect((await t.http.post(`${API}/reconciliation/entries/${stranger.id}/reopen`).set(w.finance.auth)).body.type).toContain('entry-not-resolved');
    const actions = (await t.dataSource.query(`SELECT action FROM audit_events WHERE object_id = $1 ORDER BY id`, [stranger.id])).map((a: { action: string }) => a.action);
    expect(actions).toEqual(['reconciliation.exception_resolved', 'reconciliation.exception_reopened']);
  });

  it('unmatch of a disbursing grant: the tranche is paid again and can be matched by another entry', async () => {
    await splitInTwo();
    const grant = await approvedGrant(t, w, { amount: 2_000_000 });
    const [first] = await tranchesOf(grant);
    await pay(first.id);
    const res = await upload(csvStatement([{ amount: '10000.00', remittance: first.reference }, { amount: '10000.00', remittance: 'the real one' }]), w.hospitalFinance, undefined, 'u.csv');
    const [auto, manual] = await items(res.body.id);
    expect(auto.status).toBe('matched');
    const undone = await t.http.post(`${API}/reconciliation/entries/${auto.id}/unmatch`).set(w.finance.auth);
    expect(undone.status).toBe(200);
    expect(undone.body).toMatchObject({ status: 'unmatched', disbursementId: null, matchKind: null });
    expect(await disbursementStatus(first.id)).toBe('paid');
    await t.http.post(`${API}/reconciliation/entries/${auto.id}/unmatch`).set(w.finance.auth).expect(409);
    await t.http.post(`${API}/reconciliation/entries/${manual.id}/match`).set(w.hospitalFinance.auth).send({ disbursementId: first.id }).expect(200);
    expect(await disbursementStatus(first.id)).toBe('reconciled');
    expect(await appStatus(grant.id)).toBe('disbursing');
    const actions = (await t.dataSource.query(`SELECT action FROM audit_events WHERE object_type = 'statement_entry' ORDER BY id`)).map((a: { action: string }) => a.action);
    expect(actions).toEqual(['reconciliation.entry_unmatched', 'reconciliation.entry_matched']);
    // The tranche's own events tell the same story, and so does the grant's history.
    const trancheActions = (await t.dataSource.query(`SELECT action FROM audit_events WHERE object_type = 'disbursement' AND object_id = $1 ORDER BY id`, [first.id])).map((a: { action: string }) => a.action);
    expect(trancheActions).toEqual(['fund.disbursed', 'disbursement.paid', 'disbursement.reconciled', 'disbursement.unreconciled', 'disbursement.reconciled']);
    const history = (await t.http.get(`${API}/applications/${grant.id}/history?limit=100`).set(w.finance.auth).expect(200)).body.items as { action: string }[];
    expect(history.map((e) => e.action).filter((a) => trancheActions.includes(a))).toEqual(trancheActions);
    // The family reads that its grant was paid and reconciled, not which of the hospital's statements and entries did it.
    type Event = { action: string; summary: Record<string, unknown> };
    const reconciledOf = async (who: SignedIn) =>
      ((await t.http.get(`${API}/applications/${grant.id}/history?limit=100`).set(who.auth).expect(200)).body.items as Event[]).filter((e) => e.action.endsWith('reconciled'));
    const [toStaff, toFamily] = [await reconciledOf(w.admin), await reconciledOf(w.family)];
    expect(toStaff.map((e) => e.summary)).toContainEqual(expect.objectContaining({ statementId: expect.any(String), entryId: expect.any(String) }));
    expect(toFamily.map((e) => e.action)).toEqual(toStaff.map((e) => e.action));
    for (const event of toFamily) expect(Object.keys(event.summary)).not.toEqual(expect.arrayContaining(['statementId']));
    for (const event of toFamily) expect(Object.keys(event.summary)).not.toEqual(expect.arrayContaining(['entryId']));
  });

  it('reports paid, reconciled, outstanding and exceptions per hospital and period, as JSON and CSV', async () => {
    const { tranche: a } = await paidGrant(3_000_000);
    await paidGrant(1_000_000);
    await upload(camt053([
      { amount: '30000.00', remittance: a.reference, accountServicerReference: 'R-1', bookingDate: '2026-09-15' },
      { amount: '10000.01', remittance: 'SPR-2026-999999-1', accountServicerReference: 'R-2', bookingDate: '2026-09-15' },
      { amount: '99.00', currency: 'EUR', accountServicerReference: 'R-3', bookingDate: '2026-09-15' },
      { amount: '500.00', remittance: '住院押金 张三', accountServicerReference: 'R-4', bookingDate: '2026-09-15' },
      { amount: '10000.00', remittance: '汇款', accountServicerReference: 'R-5', bookingDate: '2026-09-15' }, // the outstanding tranche's amount
    ]));
    const today = todayIn(FUND_TIME_ZONE);
    const q = `from=2026-01-01&to=${today > '2026-12-31' ? today : '2026-12-31'}`;
    const report = (await t.http.get(`${API}/reconciliation/report?${q}`).set(w.hospitalFinance.auth).expect(200)).body;
    expect(report).toEqual({
      hospitalId: w.hospital.id,
      from: '2026-01-01',
      to: expect.any(String),
      paid: { count: 2, amount: 4_000_000 },
      reconciled: { count: 1, amount: 3_000_000 },
      outstanding: { count: 1, amount: 1_000_000 },
      exceptions: {
        mismatched: { count: 0, amount: 0 },
        // The unknown reference, and a credit naming nothing but of the amount of the tranche still outstanding.
        unmatched: { count: 2, amount: 2_000_001 },
        duplicates: { count: 0, amount: 0 },
        total: { count: 2, amount: 2_000_001 },
      },
      // A patient's deposit names nothing of the fund's: counted, apart, and no exception (as the exceptions email has it).
      resolvedExceptions: { count: 0, amount: 0 },
      unnamedCredits: { count: 1, amount: 50_000 },
    });
    const all = (await t.http.get(`${API}/reconciliation/report?${q}`).set(w.finance.auth).expect(200)).body;
    expect(all.hospitalId).toBeNull();
    const csv = await t.http.get(`${API}/reconciliation/report?${q}&format=csv&hospitalId=${w.hospital.id}`).set(w.admin.auth).expect(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const rows = parse(csv.text) as string[][];
    expect(rows.find((r) => r[3] === 'outstanding')?.slice(4)).toEqual(['1', '10000.00', 'CNY']);
    expect(rows.find((r) => r[3] === 'unnamed_credits')?.slice(4)).toEqual(['1', '500.00', 'CNY']);
    const empty = (await t.http.get(`${API}/reconciliation/report?from=2020-01-01&to=2020-12-31`).set(w.finance.auth).expect(200)).body;
    expect(empty.paid).toEqual({ count: 0, amount: 0 });
    await t.http.get(`${API}/reconciliation/report?from=2026-12-31&to=2026-01-01`).set(w.finance.auth).expect(400);
    await t.http.get(`${API}/reconciliation/report?from=2026-02-30&to=2026-03-01`).set(w.finance.auth).expect(400);
    await t.http.get(`${API}/reconciliation/report?to=2026-03-01`).set(w.finance.auth).expect(400);
    const otherHospital = await createHospital(t, w.admin);
    await t.http.get(`${API}/reconciliation/report?${q}&hospitalId=${otherHospital.id}`).set(w.hospitalFinance.auth).expect(403);
  });

  it("the report's exceptions leave out repeats of bank entries already imported, and count a separate credit for a reconciled tranche", async () => {
    const { tranche } = await paidGrant(3_000_000);
    const daily: StatementLine[] = [
      { amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'OCT-1', bookingDate: '2026-10-05' },
      { amount: '123.45', remittance: 'SPR-2026-999998-1', accountServicerReference: 'OCT-2', bookingDate: '2026-10-05' },
    ];
    expect((await upload(camt053(daily, { statementId: 'DAY-1005' }))).body).toMatchObject({ matched: 1, unmatched: 1 });
    // The month's statement repeats the day's entries, and brings another transfer naming the reconciled tranche.
    const second: StatementLine = { amount: '30000.00', remittance: tranche.reference, accountServicerReference: 'OCT-3', bookingDate: '2026-10-20' };
    const month = await upload(camt053([...daily, second], { statementId: 'MONTH-10' }));
    expect(month.body).toMatchObject({ entries: 3, matched: 0, duplicates: 3 });
    const report = (await t.http.get(`${API}/reconciliation/report?from=2026-10-01&to=2026-10-31`).set(w.hospitalFinance.auth).expect(200)).body;
    expect(report.exceptions).toEqual({
      mismatched: { count: 0, amount: 0 },
      unmatched: { count: 1, amount: 12_345 },
      duplicates: { count: 1, amount: 3_000_000 },
      total: { count: 2, amount: 3_012_345 },
    });
  });

  it('paginates the items of a large statement in file order', async () => {
    const lines = Array.from({ length: 250 }, (_, i) => ({ amount: `${i + 1}.00`, accountServicerReference: `P-${i}` }));
    const res = await upload(camt053(lines));
    expect(res.body.entries).toBe(250);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { amount: number }[]; nextCursor: string | null } } = await t.http
        .get(`${API}/reconciliation/statements/${res.body.id}?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
        .set(w.hospitalFinance.auth)
        .expect(200);
      seen.push(...page.body.items.map((i) => i.amount));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(lines.map((_, i) => (i + 1) * 100));
    const matched = (await t.http.get(`${API}/reconciliation/statements/${res.body.id}?status=matched`).set(w.hospitalFinance.auth).expect(200)).body;
    expect(matched.items).toEqual([]);
    // The filter selects, rather than answering nothing for every status.
    const unmatched = (await t.http.get(`${API}/reconciliation/statements/${res.body.id}?status=unmatched&limit=1000`).set(w.hospitalFinance.auth).expect(200)).body;
    expect(unmatched.items).toHaveLength(lines.length);
  });

  it('lists the endpoints in the OpenAPI document', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    for (const path of ['/api/v1/reconciliation/statements', '/api/v1/reconciliation/statements/{id}', '/api/v1/reconciliation/entries/{id}/match', '/api/v1/reconciliation/entries/{id}/unmatch', '/api/v1/reconciliation/report']) {
      expect(doc.paths[path]).toBeDefined();
    }
  });
});
