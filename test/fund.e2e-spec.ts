import { randomUUID } from 'node:crypto';
import { requestFingerprint } from 'src/common/idempotency/request-fingerprint';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { signedInUser, SignedIn } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';
import { waitUntil } from 'test/support/wait-until';

const API = '/api/v1';

const contribution = (overrides: Record<string, unknown> = {}) => ({
  amount: 100_000_000,
  donorName: '上海某慈善基金会',
  receivedOn: '2026-01-15',
  reference: `ICBC-${randomUUID().slice(0, 12)}`,
  ...overrides,
});

/** A date `days` after today in the fund's time zone. */
function shanghaiDayPlus(days: number): string {
  const d = new Date(`${todayIn(FUND_TIME_ZONE)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

describe('Fund: contributions and balances (e2e)', () => {
  let t: TestApp;
  let finance: SignedIn;
  let admin: SignedIn;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    finance = await signedInUser(t, 'fund_finance');
    admin = await signedInUser(t, 'admin');
  });

  const contribute = (body: object, who: SignedIn = finance, key?: string) => {
    const req = t.http.post(`${API}/fund/contributions`).set(who.auth);
    return key === undefined ? req.send(body) : req.set('Idempotency-Key', key).send(body);
  };
  const fund = async () => (await t.http.get(`${API}/fund`).set(finance.auth).expect(200)).body as Record<string, number>;

  it('records a contribution: donations → available, audited, and GET /fund keeps received = available + committed + disbursed', async () => {
    expect(await fund()).toEqual({ received: 0, available: 0, committed: 0, disbursed: 0 });

    const body = contribution({ amount: 12_345_678 });
    const res = await contribute(body);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ ...body, id: expect.any(String), recordedBy: finance.id, createdAt: expect.any(String), reversed: false, reversal: null });
    await contribute(contribution({ amount: 1 }), admin).expect(201);

    expect(await fund()).toEqual({ received: 12_345_679, available: 12_345_679, committed: 0, disbursed: 0 });
    const entries = await t.dataSource.query(
      `SELECT e.account_code, e.amount::text FROM ledger_entries e JOIN journal_transactions j ON j.id = e.transaction_id
        WHERE j.contribution_id = $1 ORDER BY e.account_code`,
      [res.body.id],
    );
    expect(entries).toEqual([
      { account_code: 'donations', amount: '-12345678' },
      { account_code: 'fund:available', amount: '12345678' },
    ]);
    const [audit] = await t.dataSource.query(`SELECT actor_id, action, summary FROM audit_events WHERE object_id = $1`, [res.body.id]);
    expect(audit).toMatchObject({ actor_id: finance.id, action: 'fund.contribution_recorded', summary: { amount: 12_345_678, from: 'donations', to: 'fund:available' } });
    expect(JSON.stringify(audit.summary)).not.toContain(body.donorName);
  });

  it('lists contributions newest receipt first, keyset-paginated', async () => {
    for (const day of ['2026-01-03', '2026-01-01', '2026-01-02']) await contribute(contribution({ receivedOn: day })).expect(201);
    const first = await t.http.get(`${API}/fund/contributions?limit=2`).set(finance.auth).expect(200);
    expect(first.body.items.map((c: { receivedOn: string }) => c.receivedOn)).toEqual(['2026-01-03', '2026-01-02']);
    const second = await t.http.get(`${API}/fund/contributions?limit=2&cursor=${first.body.nextCursor}`).set(finance.auth).expect(200);
    expect(second.body).toEqual({ items: [expect.objectContaining({ receivedOn: '2026-01-01' })], nextCursor: null });
  });

  it('refuses a duplicate reference with 409 and moves no money', async () => {
    const body = contribution();
    await contribute(body).expect(201);
    const dup = await contribute({ ...body, amount: 5 });
    expect(dup.status).toBe(409);
    expect(dup.body.type).toMatch(/duplicate-contribution$/);
    // The same receipt typed again as banks also write it: lower case, spaces for hyphens; and two at once.
    for (const retyped of [body.reference.toLowerCase(), body.reference.replace(/-/g, ' ')]) {
      const res = await contribute({ ...body, reference: retyped });
      expect([retyped, res.status]).toEqual([retyped, 409]);
    }
    const twice = await Promise.all([contribute({ ...body, reference: 'NEW-RECEIPT-1' }), contribute({ ...body, reference: 'new receipt 1' })]);
    expect(twice.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await fund()).toMatchObject({ received: body.amount * 2 });
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM journal_transactions')).toEqual([{ n: 2 }]);
  });

  it('refuses invalid input with 400 naming the fields', async () => {
    const missing = await contribute({});
    expect(missing.status).toBe(400);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(new Set(missing.body.errors.map((e: { field: string }) => e.field))).toEqual(new Set(['amount', 'donorName', 'receivedOn', 'reference']));

    const cases: [Record<string, unknown>, string][] = [
      [{ amount: 100.5 }, 'amount'],
      [{ amount: -100 }, 'amount'],
      [{ amount: 0 }, 'amount'],
      [{ amount: '100' }, 'amount'],
      [{ amount: 1_000_000_000_001 }, 'amount'],
      [{ receivedOn: '2026-02-30' }, 'receivedOn'],
      [{ receivedOn: '2026-1-5' }, 'receivedOn'],
      [{ receivedOn: shanghaiDayPlus(2) }, 'receivedOn'],
      [{ donorName: '   ' }, 'donorName'],
      [{ donorName: '\u200b' }, 'donorName'], // a name of nothing shown
      [{ donorName: '\u202e\u2066' }, 'donorName'],
      [{ reference: 'a'.repeat(101) }, 'reference'],
      [{ note: 'x' }, 'note'],
    ];
    for (const [override, field] of cases) {
      const res = await contribute(contribution(override));
      expect({ override, status: res.status }).toEqual({ override, status: 400 });
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }

    // 2^63 does not fit a bigint; as JSON it arrives as a float and must be refused, not rounded.
    const huge = await t.http
      .post(`${API}/fund/contributions`)
      .set(finance.auth)
      .set('Content-Type', 'application/json')
      .send(`{"amount": 9223372036854775808, "donorName": "x", "receivedOn": "2026-01-01", "reference": "HUGE-1"}`);
    expect(huge.status).toBe(400);
    expect(huge.body.errors).toEqual([expect.objectContaining({ field: 'amount' })]);

    expect(await fund()).toEqual({ received: 0, available: 0, committed: 0, disbursed: 0 });
    // The bounds themselves are fine: today, and ¥10,000,000,000.
    await contribute(contribution({ amount: 1_000_000_000_000, receivedOn: todayIn(FUND_TIME_ZONE) })).expect(201);
    // A donor's name is stored as shown: control and reordering characters out, white space one space.
    const named = await contribute(contribution({ donorName: ' Rotary\u0007 Club\n of \u202eShanghai\u001b[31m ', reference: 'NAME-1' })).expect(201);
    expect(named.body.donorName).toBe('Rotary Club of Shanghai[31m');
  });

  it('lets only fund_finance and admin touch the fund, and only admin verify the ledger', async () => {
    for (const role of ['applicant', 'reviewer', 'hospital_finance'] as const) {
      const extra = role === 'hospital_finance' ? { hospitalId: await hospitalId() } : {};
      const user = await signedInUser(t, role, extra);
      await t.http.get(`${API}/fund`).set(user.auth).expect(403);
      await t.http.get(`${API}/fund/contributions`).set(user.auth).expect(403);
      await contribute(contribution(), user).expect(403);
    }
    await t.http.get(`${API}/fund`).expect(401);
    await t.http.get(`${API}/fund/ledger/verify`).set(finance.auth).expect(403);
    await t.http.get(`${API}/fund/ledger/verify`).set(admin.auth).expect(200);
  });

  it('documents the fund endpoints in the OpenAPI document', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([`${API}/fund`, `${API}/fund/contributions`, `${API}/fund/ledger/verify`]));
    const post = doc.paths[`${API}/fund/contributions`].post;
    expect(post.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]));
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '409', '422']));
    expect(doc.components.schemas.CreateContributionDto.properties.amount).toMatchObject({ type: 'integer', description: expect.stringMatching(/minor units/) });
    expect(doc.components.schemas.FundBalancesDto.required).toEqual(['received', 'available', 'committed', 'disbursed']);
  });

  async function hospitalId(): Promise<string> {
    const res = await t.http
      .post(`${API}/hospitals`)
      .set(admin.auth)
      .send({ name: 'H', code: `H${randomUUID().slice(0, 5).toUpperCase()}`, bankAccount: { bankName: 'ICBC', accountName: 'H', accountNumber: '6222021001234567822' } })
      .expect(201);
    return res.body.id as string;
  }

  describe('Idempotency-Key', () => {
    it('replays the first response for the same key and body, and moves the money once', async () => {
      const body = contribution({ amount: 5_000 });
      const first = await contribute(body, finance, 'key-1');
      expect(first.status).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      // Same request, fields in another order: still the same request.
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      const again = await contribute(reordered, finance, 'key-1');
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await fund()).toMatchObject({ received: 5_000, available: 5_000 });
      expect(await t.dataSource.query('SELECT count(*)::int AS n FROM fund_contributions')).toEqual([{ n: 1 }]);
    });

    it('answers 422 for the same key with another body, and keeps keys apart per caller', async () => {
      const body = contribution();
      await contribute(body, finance, 'key-2').expect(201);
      const other = await contribute({ ...body, amount: body.amount + 1 }, finance, 'key-2');
      expect(other.status).toBe(422);
      expect(other.body.type).toMatch(/idempotency-key-reused$/);
      // Another user's key of the same name is another key.
      await contribute(contribution(), admin, 'key-2').expect(201);
      expect(await t.dataSource.query('SELECT count(*)::int AS n FROM fund_contributions')).toEqual([{ n: 2 }]);
    });

    it('answers 409 while the first request with the key is still in flight, then replays it', async () => {
      await contribute(contribution({ amount: 1 })).expect(201); // the accounts exist, so we can hold their lock
      const holder = t.dataSource.createQueryRunner();
      await holder.connect();
      await holder.startTransaction();
      const body = contribution({ amount: 700 });
      let first: Promise<{ status: number; body: Record<string, unknown> }> | undefined;
      try {
        await holder.query(`SELECT 1 FROM ledger_accounts WHERE code = 'donations' FOR UPDATE`);
        first = contribute(body, finance, 'key-3').then((r) => r);
        await waitUntil(async () => (await t.dataSource.query(`SELECT status FROM idempotency_keys WHERE key = 'key-3'`)).length === 1, 5000);

        const during = await contribute(body, finance, 'key-3');
        expect(during.status).toBe(409);
        expect(during.body.type).toMatch(/idempotency-request-in-flight$/);
        const otherBody = await contribute({ ...body, amount: 701 }, finance, 'key-3');
        expect(otherBody.status).toBe(422);
      } finally {
        await holder.rollbackTransaction();
        await holder.release();
      }
      const done = await first!;
      expect(done.status).toBe(201);
      const replay = await contribute(body, finance, 'key-3');
      expect(replay.status).toBe(201);
      expect(replay.body).toEqual(done.body);
      expect(await fund()).toMatchObject({ received: 701 });
    });

    it('lets exactly one of many parallel requests with one key do the work', async () => {
      const body = contribution({ amount: 300 });
      const results = await Promise.all(Array.from({ length: 12 }, () => contribute(body, finance, 'key-4').then((r) => r)));
      const fresh = results.filter((r) => r.status === 201 && !r.headers['idempotent-replayed']);
      expect(fresh).toHaveLength(1);
      for (const r of results) expect([201, 409]).toContain(r.status);
      for (const r of results.filter((r) => r.status === 201)) expect(r.body).toEqual(fresh[0].body);
      expect(await fund()).toMatchObject({ received: 300 });
    });

    it('stores nothing for a failed request, so a retry runs afresh', async () => {
      const body = contribution();
      await contribute(body).expect(201);
      const dup = { ...body, amount: 9 };
      await contribute(dup, finance, 'key-5').expect(409);
      expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM idempotency_keys`)).toEqual([{ n: 0 }]);
      await contribute({ ...dup, reference: 'NEW-REF' }, finance, 'key-5').expect(201);
    });

    it('takes over a claim left in flight by a process that died, once it is stale', async () => {
      const body = contribution({ amount: 42 });
      const claim = (age: string) =>
        t.dataSource.query(
          `INSERT INTO idempotency_keys (principal, key, operation, request_hash, status, attempt, started_at)
           VALUES ($1, 'key-6', 'POST /fund/contributions', $2, 'in_flight', $3, now() - $4::interval)`,
          [finance.id, requestFingerprint('POST /fund/contributions', body), randomUUID(), age],
        );
      await claim('10 seconds');
      await contribute(body, finance, 'key-6').expect(409);
      await t.dataSource.query(`TRUNCATE idempotency_keys`);
      await claim('10 minutes');
      const res = await contribute(body, finance, 'key-6');
      expect(res.status).toBe(201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(await fund()).toMatchObject({ received: 42 });
    });

    it('refuses a malformed key with 400', async () => {
      const res = await contribute(contribution(), finance, 'k'.repeat(256));
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
      await contribute(contribution(), finance, 'k'.repeat(255)).expect(201);
    });
  });

  describe('the database guards the ledger', () => {
    beforeEach(async () => {
      await contribute(contribution({ amount: 10_000 })).expect(201);
    });

    it.each(['ledger_entries', 'journal_transactions', 'fund_contributions'])('the application role cannot UPDATE or DELETE %s', async (table) => {
      const column = table === 'ledger_entries' ? 'amount = amount + 1' : 'created_at = now()';
      await expect(t.dataSource.query(`UPDATE ${table} SET ${column}`)).rejects.toThrow(/append-only/);
      await expect(t.dataSource.query(`DELETE FROM ${table}`)).rejects.toThrow(/append-only/);
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`);
      expect(n).toBeGreaterThan(0);
      // And nobody was granted those rights through PUBLIC.
      const grants = await t.dataSource.query(
        `SELECT a.privilege_type FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
          WHERE c.relname = $1 AND a.grantee = 0 AND a.privilege_type IN ('UPDATE', 'DELETE')`,
        [table],
      );
      expect(grants).toEqual([]);
    });

    it.each(['audit_events', 'decisions', 'info_requests', 'journal_transactions', 'ledger_entries', 'fund_contributions', 'ledger_accounts', 'ledger_grant_balances'])(
      'nobody can TRUNCATE %s (row triggers do not see it; a statement trigger does), nor empty it by cascade',
      async (table) => {
        // Refused either way: by the trigger, or first (for a table others reference) for want of CASCADE.
        await expect(t.dataSource.query(`TRUNCATE ${table}`)).rejects.toThrow(/append-only|referenced in a foreign key/);
        await expect(t.dataSource.query(`TRUNCATE ${table} CASCADE`)).rejects.toThrow(/append-only/);
        if (table !== 'audit_events') await expect(t.dataSource.query(`TRUNCATE applications, users CASCADE`)).rejects.toThrow(/append-only/);
      },
    );

    it('GET /audit/verify still finds the chain whole after the refused attempts', async () => {
      await expect(t.dataSource.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only/);
      const admin = await signedInUser(t, 'admin');
      const verified = await t.http.get('/api/v1/audit/verify').set(admin.auth).expect(200);
      expect(verified.body).toMatchObject({ ok: true });
      expect(verified.body.checked).toBeGreaterThan(0);
    });

    it('cached balances change only by posting entries', async () => {
      await expect(t.dataSource.query(`UPDATE ledger_accounts SET balance = 0`)).rejects.toThrow(/only by posting/);
      await expect(t.dataSource.query(`DELETE FROM ledger_accounts`)).rejects.toThrow(/only by posting/);
      await expect(t.dataSource.query(`INSERT INTO ledger_grant_balances VALUES ($1, 'fund:committed', 5)`, [randomUUID()])).rejects.toThrow(/only by posting/);
      expect(await fund()).toEqual({ received: 10_000, available: 10_000, committed: 0, disbursed: 0 });
    });

    it('an unbalanced journal transaction cannot commit', async () => {
      const grant = randomUUID();
      const post = (entries: [string, number][]) =>
        t.dataSource.transaction(async (tx) => {
          const [{ id }] = await tx.query(`INSERT INTO journal_transactions (kind, posting_key, application_id) VALUES ('commitment', $1, $2) RETURNING id`, [
            `test:${randomUUID()}`,
            grant,
          ]);
          for (const [account, amount] of entries) {
            await tx.query(`INSERT INTO ledger_entries (transaction_id, account_code, application_id, amount) VALUES ($1, $2, $3, $4)`, [id, account, grant, amount]);
          }
        });
      await expect(post([['fund:committed', 100]])).rejects.toThrow(/unbalanced/);
      await expect(post([['fund:available', -100], ['fund:committed', 99]])).rejects.toThrow(/unbalanced/);
      await expect(post([])).rejects.toThrow(/unbalanced/);
      // More than the fund holds: refused at once by the balance CHECK.
      await expect(post([['fund:available', -10_001], ['fund:committed', 10_001]])).rejects.toThrow(/check constraint/);
      // Balanced, within funds: the same route commits.
      await post([['fund:available', -100], ['fund:committed', 100]]);
      expect(await fund()).toEqual({ received: 10_000, available: 9_900, committed: 100, disbursed: 0 });
    });

    it('an entry cannot be slipped into an already committed journal transaction', async () => {
      const [{ id }] = await t.dataSource.query(`SELECT id FROM journal_transactions LIMIT 1`);
      await expect(
        t.dataSource.query(`INSERT INTO ledger_entries (transaction_id, account_code, amount) VALUES ($1, 'donations', -5), ($1, 'fund:available', 5)`, [id]),
      ).rejects.toThrow(/same database transaction/);
    });
  });

  describe('GET /fund/ledger/verify', () => {
    it('proves the balances equal the entries, and notices when they do not', async () => {
      await contribute(contribution({ amount: 4_000 })).expect(201);
      await contribute(contribution({ amount: 6_000 })).expect(201);
      const ok = await t.http.get(`${API}/fund/ledger/verify`).set(admin.auth).expect(200);
      expect(ok.body).toMatchObject({
        ok: true,
        journalTransactions: 2,
        entries: 4,
        unbalancedTransactions: [],
        grantMismatches: [],
        fromEntries: { received: 10_000, available: 10_000, committed: 0, disbursed: 0, identityHolds: true, nonNegative: true },
      });
      expect(ok.body.accounts).toEqual(
        expect.arrayContaining([{ code: 'fund:available', balance: 10_000, entriesTotal: 10_000, ok: true }, { code: 'donations', balance: -10_000, entriesTotal: -10_000, ok: true }]),
      );

      // Tamper as only a superuser could (triggers off): the verification must catch both kinds of damage.
      await t.dataSource.transaction(async (tx) => {
        await tx.query(`SET LOCAL session_replication_role = replica`);
        await tx.query(`UPDATE ledger_accounts SET balance = balance + 1 WHERE code = 'fund:available'`);
        await tx.query(`UPDATE ledger_entries SET amount = amount - 1 WHERE id = (SELECT min(id) FROM ledger_entries WHERE account_code = 'donations')`);
      });
      const broken = await t.http.get(`${API}/fund/ledger/verify`).set(admin.auth).expect(200);
      expect(broken.body.ok).toBe(false);
      expect(broken.body.accounts).toEqual(
        expect.arrayContaining([
          { code: 'fund:available', balance: 10_001, entriesTotal: 10_000, ok: false },
          { code: 'donations', balance: -10_000, entriesTotal: -10_001, ok: false },
        ]),
      );
      expect(broken.body.unbalancedTransactions).toEqual([{ id: expect.any(String), entries: 2, total: -1 }]);
    });

    it('checks the fund identity exactly past 2^53 fen, where one fen is lost to doubles', async () => {
      await contribute(contribution({ amount: 4_000 })).expect(201);
      // Donations of 2^53 + 1 fen, of which 2^53 available: one fen missing, as doubles would not tell.
      await t.dataSource.transaction(async (tx) => {
        await tx.query(`SET LOCAL session_replication_role = replica`);
        await tx.query(`UPDATE ledger_entries SET amount = -9007199254740993 WHERE account_code = 'donations'`);
        await tx.query(`UPDATE ledger_entries SET amount = 9007199254740992 WHERE account_code = 'fund:available'`);
        await tx.query(`UPDATE ledger_accounts SET balance = -9007199254740993 WHERE code = 'donations'`);
        await tx.query(`UPDATE ledger_accounts SET balance = 9007199254740992 WHERE code = 'fund:available'`);
      });
      const verified = await t.http.get(`${API}/fund/ledger/verify`).set(admin.auth).expect(200);
      expect(verified.body.fromEntries).toMatchObject({ identityHolds: false, nonNegative: true });
      expect(verified.body.ok).toBe(false);
    });
  });
});
