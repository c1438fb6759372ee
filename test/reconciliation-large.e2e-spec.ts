import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { approvedGrant, camt053, grantWorld, GrantWorld } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';

/** A CSV statement of `count` entries built line by line (the test's own copy is the only whole one in memory). */
function bigCsv(count: number, extra: string[] = []): Buffer {
  const parts: string[] = ['date,amount,currency,reference,counterparty,description'];
  for (let i = 0; i < count; i++) parts.push(`2026-09-${String((i % 28) + 1).padStart(2, '0')},${(i % 9999) + 1}.${String(i % 100).padStart(2, '0')},CNY,BANK-${i},Counterparty ${i % 500},Payment number ${i} of the month`);
  parts.push(...extra);
  return Buffer.from(parts.join('\n') + '\n');
}

describe('Reconciliation: large statements (e2e)', () => {
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

  const paidTranche = async (amount: number) => {
    const grant = await approvedGrant(t, w, { amount });
    const [tranche] = (await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(w.finance.auth).expect(200)).body.items;
    await t.http.post(`${API}/disbursements/${tranche.id}/pay`).set(w.finance.auth).send({ paidOn: todayIn(FUND_TIME_ZONE), bankReference: 'BIG' }).expect(200);
    return tranche as { id: string; reference: string };
  };

  it('imports a CSV of 200,000 entries, matching the one that carries a reference', async () => {
    const tranche = await paidTranche(1_234_500);
    const file = bigCsv(199_999, [`2026-09-30,12345.00,CNY,BANK-X,Sprout,${tranche.reference}`]);
    const started = Date.now();
    const res = await t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).attach('file', file, 'big.csv');
    const seconds = (Date.now() - started) / 1000;
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ format: 'csv', entries: 200_000, matched: 1, unmatched: 199_999, sizeBytes: file.length });
    // eslint-disable-next-line no-console
    console.log(`200,000-entry CSV (${(file.length / 1048576).toFixed(1)} MiB) imported in ${seconds.toFixed(1)} s; rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM statement_entries WHERE statement_id = $1`, [res.body.id]);
    expect(n).toBe(200_000);
    expect((await t.dataSource.query(`SELECT status FROM disbursements WHERE id = $1`, [tranche.id]))[0].status).toBe('reconciled');
  }, 300_000);

  it('imports a camt.053 of about 50 MB', async () => {
    const tranche = await paidTranche(5_000);
    const filler = Array.from({ length: 75_000 }, (_, i) => ({
      amount: `${(i % 5000) + 1}.00`,
      accountServicerReference: `ICBC-${i}`,
      endToEndId: `E2E-${randomUUID()}`,
      counterparty: `上海某公司 ${i % 300}`,
      remittance: `Invoice ${i} for services rendered in September, order ${randomUUID()}`,
    }));
    const file = camt053([...filler, { amount: '50.00', remittance: tranche.reference, accountServicerReference: 'ICBC-LAST' }]);
    const started = Date.now();
    const res = await t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).attach('file', file, 'big.xml');
    const seconds = (Date.now() - started) / 1000;
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ format: 'camt.053', entries: 75_001, matched: 1 });
    // eslint-disable-next-line no-console
    console.log(`camt.053 of ${(file.length / 1048576).toFixed(1)} MiB (75,001 entries) imported in ${seconds.toFixed(1)} s; rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
    expect(file.length).toBeGreaterThan(40 * 1048576);
    expect(file.length).toBeLessThan(50 * 1048576);
  }, 300_000);
});

describe('Reconciliation: limits (e2e)', () => {
  let t: TestApp;
  let w: GrantWorld;

  const spoolDir = mkdtempSync(join(tmpdir(), 'sprout-spool-limits-'));
  beforeAll(async () => {
    t = await startTestApp({ STATEMENT_MAX_BYTES: '4096', STATEMENT_MAX_ENTRIES: '10', STATEMENT_SPOOL_DIR: spoolDir });
  });
  afterAll(async () => {
    await t.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });
  // A refused upload's spooled copy is removed too.
  afterEach(() => expect(readdirSync(spoolDir)).toEqual([]));
  beforeEach(async () => {
    await t.reset();
    w = await grantWorld(t, 0);
  });

  const counts = async () => (await t.dataSource.query(`SELECT (SELECT count(*) FROM bank_statements)::int AS s, (SELECT count(*) FROM statement_entries)::int AS e`))[0];

  it('refuses a file past STATEMENT_MAX_BYTES with 413, storing nothing', async () => {
    const res = await t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).attach('file', bigCsv(9, ['x'.repeat(5000)]), 'big.csv');
    expect(res.status).toBe(413);
    expect(res.body.type).toContain('statement-too-large');
    expect(await counts()).toEqual({ s: 0, e: 0 });
  });

  it('refuses more than STATEMENT_MAX_ENTRIES entries with 413, storing nothing', async () => {
    const res = await t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).attach('file', bigCsv(11), 'many.csv');
    expect(res.status).toBe(413);
    expect(res.body.maxEntries).toBe(10);
    expect(await counts()).toEqual({ s: 0, e: 0 });
    const ok = await t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).attach('file', bigCsv(10), 'ten.csv');
    expect(ok.status).toBe(201);
  });
});
