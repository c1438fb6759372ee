import { parse } from 'csv-parse/sync';
import { camt053, csvStatement, grantWorld, GrantWorld, StatementLine } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';

/** Amounts at the edges: the per-entry cap, report sums past 2^53 fen, currencies with other than two decimals. */
describe('Reconciliation: amounts (e2e)', () => {
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

  const upload = (file: Buffer, name = 'statement.xml') =>
    t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).attach('file', file, { filename: name, contentType: 'application/octet-stream' });
  const report = (format = 'json') => t.http.get(`${API}/reconciliation/report?from=2026-09-01&to=2026-09-30&format=${format}`).set(w.hospitalFinance.auth);
  const stored = async () => ((await t.dataSource.query(`SELECT (SELECT count(*) FROM bank_statements)::int AS s, (SELECT count(*) FROM statement_entries)::int AS e`)) as object[])[0];

  it('refuses an entry above 10,000,000,000.00 with a 400 naming its line, and stores nothing', async () => {
    const csv = await upload(csvStatement([{ amount: '10000000000.00', remittance: 'at the cap' }, { amount: '10000000000.01', remittance: 'past it' }]), 's.csv');
    expect(csv.status).toBe(400);
    expect(csv.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(csv.body).toMatchObject({ type: expect.stringContaining('malformed-statement'), line: 3, detail: expect.stringContaining('10000000000.01') });
    const camt = await upload(camt053([{ amount: '99999999999.00', accountServicerReference: 'BIG-1' }]));
    expect(camt.status).toBe(400);
    expect(camt.body).toMatchObject({ element: 'Stmt[1]/Ntry[1]/Amt', detail: expect.stringContaining('99999999999.00') });
    expect(await stored()).toEqual({ s: 0, e: 0 });
  });

  it('adds exceptions past 2^53 fen exactly in the report (JSON and CSV) instead of failing', async () => {
    // 9,008 unmatched credits at the cap, each naming a tranche Sprout does not know: 9,008 × 10^12 fen > 2^53 − 1.
    const lines: StatementLine[] = Array.from({ length: 9008 }, (_, i) => ({ amount: '10000000000.00', remittance: `SPR-2026-${String(900000 + i).padStart(6, '0')}-1`, bookingDate: '2026-09-15' }));
    const res = await upload(csvStatement(lines), 'big.csv');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ entries: 9008, unmatched: 9008 });

    const json = await report();
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    // Exact digits in the JSON text (a JavaScript client reads them as the nearest double).
    expect(json.text).toContain('"unmatched":{"count":9008,"amount":9008000000000000}');
    expect(json.text).toContain('"total":{"count":9008,"amount":9008000000000000}');
    expect(json.body).toMatchObject({ hospitalId: w.hospital.id, paid: { count: 0, amount: 0 }, exceptions: { mismatched: { count: 0, amount: 0 } } });

    const csv = await report('csv');
    expect(csv.status).toBe(200);
    const rows = parse(csv.text) as string[][];
    expect(rows.find((r) => r[3] === 'exceptions_total')?.slice(4)).toEqual(['9008', '90080000000000.00', 'CNY']);
  });

  it('keeps an entry in a three-decimal currency (KWD 12.345) as ignored, in fils, beside a CNY entry', async () => {
    const res = await upload(camt053([
      { amount: '100.00', remittance: 'deposit', accountServicerReference: 'CNY-1' },
      { amount: '12.345', currency: 'KWD', remittance: 'transfer from Kuwait', accountServicerReference: 'KWD-1' },
      { amount: '1500', currency: 'JPY', remittance: 'transfer from Japan', accountServicerReference: 'JPY-1' },
    ]));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ entries: 3, unmatched: 3, ignored: 2 });
    const { items } = (await t.http.get(`${API}/reconciliation/statements/${res.body.id}`).set(w.hospitalFinance.auth).expect(200)).body;
    expect(items.map((i: Record<string, unknown>) => [i.currency, i.amount, i.status])).toEqual([
      ['CNY', 10_000, 'unmatched'],
      ['KWD', 12_345, 'ignored'],
      ['JPY', 1_500, 'ignored'],
    ]);
    // CNY keeps two decimals: a third is still damage.
    const bad = await upload(camt053([{ amount: '100.001', accountServicerReference: 'CNY-2' }]));
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('more than two significant decimals');
  });
});
