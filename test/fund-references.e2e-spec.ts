import { runMigrations } from 'src/database/database-bootstrap';
import { appliedMigrations, migratedUntil, scratchDatabase } from 'test/support/scratch-database';
import { signedInUser, SignedIn } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const RECEIPT = 'ICBC-20260915-000123';

/**
 * What the key of a reference must be, written with Node's own Unicode tables: NFKC, then no white space (Unicode
 * Z, ASCII), dashes (Pd, U+2212 minus, U+30FC prolonged sound mark) or format characters (Cf), ASCII upper case.
 */
const expectedKey = (reference: string) =>
  reference
    .normalize('NFKC')
    .replace(/[\p{Z}\p{Pd}\p{Cf}\t\n\v\f\r\u2212\u30fc]/gu, '')
    .replace(/[a-z]/g, (c) => c.toUpperCase());

const codePoints = (pattern: RegExp) => {
  const out: string[] = [];
  for (let c = 0; c <= 0x10ffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCodePoint(c);
    if (pattern.test(ch)) out.push(ch);
  }
  return out;
};

describe('Fund: a receipt is one donation however its reference is typed (e2e)', () => {
  let t: TestApp;
  let finance: SignedIn;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    finance = await signedInUser(t, 'fund_finance');
  });

  const contribute = (reference: string, amount = 100_000) =>
    t.http.post(`${API}/fund/contributions`).set(finance.auth).send({ amount, donorName: '上海某慈善基金会', receivedOn: '2026-09-15', reference });
  const fund = async () => (await t.http.get(`${API}/fund`).set(finance.auth).expect(200)).body as Record<string, number>;

  it('refuses the same receipt pasted from a bank page, typed in a Chinese IME or with Unicode dashes: 409 duplicate-contribution, no money moved', async () => {
    await contribute(RECEIPT).expect(201);
    const variants = {
      'no-break spaces for hyphens': 'ICBC\u00a020260915\u00a0000123',
      'Unicode hyphens': 'ICBC\u201020260915\u2010000123',
      'full-width letters': '\uff29\uff23\uff22\uff23-20260915-000123',
      'full-width lower case, digits and hyphens': '\uff49\uff43\uff42\uff43\uff0d\uff12\uff10\uff12\uff16\uff10\uff19\uff11\uff15\uff0d\uff10\uff10\uff10\uff11\uff12\uff13',
      'ideographic spaces': 'ICBC\u300020260915\u3000000123',
      'minus signs': 'ICBC\u221220260915\u2212000123',
      'en and em dashes': 'ICBC\u201320260915\u2014000123',
      'katakana prolonged sound marks': 'ICBC\u30fc20260915\u30fc000123',
      'narrow no-break and figure spaces': 'ICBC\u202f20260915\u2007000123',
      'nothing between the parts': 'icbc20260915000123',
    };
    for (const [how, reference] of Object.entries(variants)) {
      const res = await contribute(reference, 7);
      expect({ how, status: res.status, type: res.body.type }).toEqual({ how, status: 409, type: expect.stringMatching(/duplicate-contribution$/) });
    }
    expect(await fund()).toMatchObject({ received: 100_000, available: 100_000 });
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM fund_contributions')).toEqual([{ n: 1 }]);
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM journal_transactions')).toEqual([{ n: 1 }]);
  });

  it('refuses a reference holding invisible format characters with 400 naming the field, before anything is written', async () => {
    await contribute(RECEIPT).expect(201);
    for (const reference of ['ICBC-\u200b20260915-000123', 'ICBC-20260915-00\u00ad0123', '\u202eICBC-20260915-000123', 'ICBC-2026\u206009-15']) {
      const res = await contribute(reference, 7);
      expect({ reference, status: res.status }).toEqual({ reference, status: 400 });
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.errors).toEqual([{ field: 'reference', message: expect.stringMatching(/format/) }]);
    }
    // Nothing to tell one receipt from another: only dashes and spaces.
    const blank = await contribute('- \u2010 \u3000 -', 7);
    expect(blank.status).toBe(400);
    expect(blank.body.errors).toEqual([{ field: 'reference', message: expect.stringMatching(/letter or digit/) }]);
    expect(await fund()).toMatchObject({ received: 100_000 });
  });

  it('two variants of one receipt at once: one 201, one 409', async () => {
    const results = await Promise.all([contribute('BOC\u00a0778899'), contribute('\uff22\uff2f\uff23-778899'), contribute('boc\u2010778899')]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(await fund()).toMatchObject({ received: 100_000 });
  });

  it('still records different receipts, and keeps the reference as it was typed', async () => {
    const a = await contribute('\uff29\uff23\uff22\uff23 20260915 000123').expect(201);
    await contribute('ICBC-20260915-000124').expect(201);
    await contribute('ICBC-20260915-0001234').expect(201);
    expect(a.body.reference).toBe('\uff29\uff23\uff22\uff23 20260915 000123');
    expect(await fund()).toMatchObject({ received: 300_000 });
  });

  it("keys a reference exactly as Node's Unicode tables say: every white space, dash and format character is ignored, NFKC, ASCII upper case", async () => {
    const key = async (reference: string) => ((await t.dataSource.query('SELECT contribution_reference_key($1) AS key', [reference])) as { key: string }[])[0].key;
    const ignored = [...codePoints(/^[\p{Z}\p{Pd}\p{Cf}\s]$/u), '\u2212', '\u30fc'];
    expect(ignored.length).toBeGreaterThan(100);
    const rows = (await t.dataSource.query(`SELECT c, contribution_reference_key('a' || c || 'b') AS key FROM unnest($1::text[]) AS c`, [ignored])) as { c: string; key: string }[];
    const kept = rows.filter((r) => r.key !== 'AB').map((r) => `U+${r.c.codePointAt(0)!.toString(16).toUpperCase()} → ${JSON.stringify(r.key)}`);
    expect(kept).toEqual([]);
    for (const reference of [RECEIPT, 'ｉｃｂｃ－２０２６', 'Ⅻ-№5', 'ﬁ ①', 'ŉ é É ß', '上海 慈善\u3000基金会—2026', 'x\u00ady\u200bz']) {
      expect({ reference, key: await key(reference) }).toEqual({ reference, key: expectedKey(reference) });
    }
  });
});

describe('Migration ContributionReferenceKeys on references recorded before it', () => {
  const database = scratchDatabase('refkeys');

  it('keeps the key on the first of the rows that collide once normalized, leaves the later ones without, and never fails', async () => {
    const dataSource = database();
    // Back to before this fix, with its down migrations.
    await migratedUntil(dataSource, 'ContributionReferenceKeys', 'ContributionReversals');
    expect(await appliedMigrations(dataSource)).toContain('ContributionReferencesAsBanksWriteThem1763700017000');

    // What the earlier code let in: the same receipt four times (its check missed these), and another receipt.
    const rows: [string, string, string][] = [
      ['00000000-0000-4000-8000-000000000004', 'ICBC\u00a020260915\u00a0000123', '2026-09-16 10:00:00+00'],
      ['00000000-0000-4000-8000-000000000001', 'ICBC-20260915-000123', '2026-09-15 10:00:00+00'],
      ['00000000-0000-4000-8000-000000000003', '\uff29\uff23\uff22\uff23-20260915-000123', '2026-09-16 09:00:00+00'],
      ['00000000-0000-4000-8000-000000000002', 'ICBC-\u200b20260915-000123', '2026-09-15 10:00:00+00'],
      ['00000000-0000-4000-8000-000000000009', 'ICBC-20260915-000124', '2026-09-17 10:00:00+00'],
    ];
    for (const [id, reference, createdAt] of rows) {
      await dataSource.query(`INSERT INTO fund_contributions (id, amount, donor_name, received_on, reference, created_at) VALUES ($1, 100, 'D', '2026-09-15', $2, $3)`, [
        id,
        reference,
        createdAt,
      ]);
    }

    expect(await runMigrations(dataSource)).toEqual(expect.arrayContaining([expect.stringMatching(/^ContributionReferenceKeys/), expect.stringMatching(/^ContributionReversals/)]));
    const keys = await dataSource.query(`SELECT id, normalized_reference AS key FROM fund_contributions ORDER BY id`);
    expect(keys).toEqual([
      { id: '00000000-0000-4000-8000-000000000001', key: 'ICBC20260915000123' },
      { id: '00000000-0000-4000-8000-000000000002', key: null },
      { id: '00000000-0000-4000-8000-000000000003', key: null },
      { id: '00000000-0000-4000-8000-000000000004', key: null },
      { id: '00000000-0000-4000-8000-000000000009', key: 'ICBC20260915000124' },
    ]);
    // The rows are as they were (append-only: the backfill aside, nothing may change them), and the receipt is now taken.
    await expect(dataSource.query(`UPDATE fund_contributions SET reference = 'x'`)).rejects.toThrow(/append-only/);
    await expect(
      dataSource.query(`INSERT INTO fund_contributions (amount, donor_name, received_on, reference) VALUES (1, 'D', '2026-09-18', 'icbc 20260915 000123')`),
    ).rejects.toMatchObject({ code: '23505' });
    await dataSource.query(`INSERT INTO fund_contributions (amount, donor_name, received_on, reference) VALUES (1, 'D', '2026-09-18', 'ICBC-20260915-000125')`);
  });
});
