import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { prepareDatabaseOnOwnConnection } from 'src/database/database-bootstrap';
import { canBypassAppendOnly } from 'src/database/runtime-role';
import { approvedGrant, camt053, grantWorld, payTranche, tranchesOf } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';
import { databaseUrl, withAdminClient } from 'test/setup/test-databases';

const API = '/api/v1';

/**
 * DATABASE_OWNER_URL: the tables' owner migrates, and the service runs as a role of its own with row rights only, so
 * that nothing the service runs can switch off the append-only rules (DESIGN: "the application's database role cannot
 * UPDATE or DELETE them"). A database and roles of this file's own, dropped at the end.
 */
describe('a runtime role apart from the tables owner (DATABASE_OWNER_URL)', () => {
  const suffix = randomUUID().slice(0, 8);
  const database = `sprout_test_${Date.now().toString(36)}_roles_${suffix}`;
  const runtime = `sprout_rt_${suffix}`;
  const ungranted = `sprout_rt_${suffix}_new`;
  const ownerUrl = databaseUrl(database);
  const urlOf = (role: string) => {
    const url = new URL(ownerUrl);
    url.username = role;
    return url.toString();
  };
  let t: TestApp;
  let asRuntime: Client;

  beforeAll(async () => {
    await withAdminClient(async (client) => {
      await client.query(`CREATE DATABASE "${database}"`);
      for (const role of [runtime, ungranted]) await client.query(`CREATE ROLE "${role}" LOGIN`);
    });
    t = await startTestApp({ DATABASE_URL: urlOf(runtime), DATABASE_OWNER_URL: ownerUrl, MIGRATIONS_RUN: 'true', DATABASE_POOL_SIZE: '4', WORKER_DATABASE_POOL_SIZE: '2' });
    asRuntime = new Client({ connectionString: urlOf(runtime) });
    await asRuntime.connect();
  }, 120_000);

  afterAll(async () => {
    await asRuntime?.end().catch(() => undefined);
    await t?.close();
    await withAdminClient(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      for (const role of [runtime, ungranted]) await client.query(`DROP ROLE IF EXISTS "${role}"`);
    });
  });

  const refused = async (sql: string) => {
    const error = await asRuntime.query(sql).then(
      () => null,
      (e: { code?: string; message: string }) => e,
    );
    return error && { code: error.code, message: error.message };
  };

  it('serves a whole grant as that role: approve, pay, import the statement, reconcile, email, audit', async () => {
    const [me] = (await t.dataSource.query(`SELECT current_user AS role`)) as { role: string }[];
    expect(me.role).toBe(runtime);
    expect(await canBypassAppendOnly(t.dataSource)).toBeNull();

    const w = await grantWorld(t, 100_000_000);
    const grant = await approvedGrant(t, w, { amount: 3_000_000 });
    const [tranche] = await tranchesOf(t, w, grant);
    await payTranche(t, w, tranche.id);
    const yuan = (tranche.amount / 100).toFixed(2);
    const imported = await t.http
      .post(`${API}/reconciliation/statements`)
      .set(w.hospitalFinance.auth)
      .attach('file', camt053([{ amount: yuan, remittance: `Sprout grant ${tranche.reference}`, accountServicerReference: `B-${suffix}` }]), 'statement.xml');
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ entries: 1, matched: 1 });
    const [paid] = await tranchesOf(t, w, grant);
    expect(paid.status).toBe('reconciled');

    await t.mail.waitForMailTo(w.family.email);
    const balances = await t.http.get(`${API}/fund`).set(w.finance.auth).expect(200);
    expect(balances.body).toMatchObject({ disbursed: tranche.amount });
    const verified = await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200);
    expect(verified.body.ok).toBe(true);
  });

  it('cannot change or remove what is append-only, switch its triggers off, or change the schema', async () => {
    // Refused by the role's rights, not only by the triggers (whose refusals carry the same code, and which an owner
    // could switch off): each message is the privilege system's.
    const denied = /^permission denied for (table|schema public)|^permission denied to set parameter "session_replication_role"|^must be owner of (table|relation)/;
    const cases: [string, RegExp][] = [
      [`UPDATE ledger_entries SET amount = amount`, denied],
      [`DELETE FROM journal_transactions`, denied],
      [`INSERT INTO ledger_grant_balances (application_id, account_code, balance) SELECT gen_random_uuid(), 'fund:committed', 1`, denied],
      [`DELETE FROM ledger_grant_balances`, denied],
      [`UPDATE ledger_accounts SET balance = balance`, denied], // only updated_at, for the movements' FOR UPDATE lock
      [`DELETE FROM audit_events`, denied],
      [`TRUNCATE audit_events`, denied],
      [`UPDATE decisions SET reason = reason`, denied],
      [`DELETE FROM disbursement_payments`, denied],
      [`DELETE FROM migrations`, denied],
      [`ALTER TABLE ledger_entries DISABLE TRIGGER ALL`, denied],
      [`DROP TRIGGER audit_events_append_only ON audit_events`, denied],
      [`CREATE TABLE public.sprout_rt_probe (id int)`, denied],
      [`SET session_replication_role = replica`, denied],
    ];
    for (const [sql, message] of cases) {
      expect({ sql, error: await refused(sql) }).toEqual({ sql, error: { code: '42501', message: expect.stringMatching(message) } });
    }
    // Nor move a cached balance from a trigger of its own (the guard let depth 2 through), or by firing the posting
    // function from a table of its own (a review of this change did both on a scratch database).
    const balance = async () => ((await asRuntime.query(`SELECT balance::text FROM ledger_accounts WHERE code = 'fund:available'`)).rows as { balance: string }[])[0].balance;
    const before = await balance();
    await asRuntime.query('BEGIN');
    try {
      // A temporary pg_proc naming the role as the posting function's owner shadowed the guard's look-up (review 2).
      await asRuntime.query(`CREATE TEMP TABLE pg_proc (oid oid, proowner oid)`);
      await asRuntime.query(`INSERT INTO pg_temp.pg_proc SELECT 'public.ledger_post_entry()'::regprocedure, oid FROM pg_roles WHERE rolname = current_user`);
      await asRuntime.query(`CREATE TEMP TABLE probe (id int)`);
      await asRuntime.query(`CREATE FUNCTION pg_temp.raise_balance() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE public.ledger_accounts SET balance = balance + 500000000 WHERE code = 'fund:available'; RETURN NULL; END $$`);
      await asRuntime.query(`CREATE TRIGGER probe_raise AFTER INSERT ON probe FOR EACH ROW EXECUTE FUNCTION pg_temp.raise_balance()`);
      expect(await refused(`INSERT INTO probe VALUES (1)`)).toEqual({ code: '42501', message: 'permission denied for table ledger_accounts' });
    } finally {
      await asRuntime.query('ROLLBACK');
    }
    await asRuntime.query('BEGIN');
    try {
      await asRuntime.query(`CREATE TEMP TABLE fake_entries (LIKE ledger_entries)`);
      expect(await refused(`CREATE TRIGGER fake_post AFTER INSERT ON fake_entries FOR EACH ROW EXECUTE FUNCTION public.ledger_post_entry()`)).toEqual({
        code: '42501',
        message: 'permission denied for function public.ledger_post_entry',
      });
    } finally {
      await asRuntime.query('ROLLBACK');
    }
    expect(await balance()).toBe(before);

    // Nor post an unbalanced journal transaction: by running its deferred check early (SET CONSTRAINTS … IMMEDIATE)
    // and adding an entry after, or by shadowing ledger_entries with a temporary table the check would read.
    const [{ id: contribution }] = (await asRuntime.query(`SELECT id FROM fund_contributions LIMIT 1`)).rows as { id: string }[];
    const unbalanced = async (steps: string[]) => {
      await asRuntime.query('BEGIN');
      try {
        const [{ id: tx }] = (
          await asRuntime.query(`INSERT INTO journal_transactions (kind, posting_key, contribution_id) VALUES ('contribution', $1, $2) RETURNING id`, [`probe-${randomUUID()}`, contribution])
        ).rows as { id: string }[];
        for (const step of steps) await asRuntime.query(step.replace(/\$tx/g, tx));
        await asRuntime.query('COMMIT');
        return null;
      } catch (error) {
        await asRuntime.query('ROLLBACK');
        return (error as Error).message;
      }
    };
    const entry = (account: string, amount: number) => `INSERT INTO ledger_entries (transaction_id, account_code, amount) VALUES ($tx, '${account}', ${amount})`;
    expect(
      await unbalanced([
        entry('donations', -100),
        entry('fund:available', 100),
        `SET CONSTRAINTS journal_transactions_balanced IMMEDIATE`,
        `SET CONSTRAINTS journal_transactions_balanced DEFERRED`,
        entry('fund:available', 70_000_000_000),
      ]),
    ).toMatch(/journal transaction \d+ is unbalanced: 3 entries summing to 70000000000/);
    expect(
      await unbalanced([
        `CREATE TEMP TABLE ledger_entries (transaction_id bigint, amount bigint) ON COMMIT DROP`,
        `INSERT INTO pg_temp.ledger_entries VALUES ($tx, 1), ($tx, -1)`,
        entry('fund:available', 50_000_000_000).replace('INSERT INTO ledger_entries', 'INSERT INTO public.ledger_entries'),
      ]),
    ).toMatch(/journal transaction \d+ is unbalanced: 1 entries summing to 50000000000/);
    expect(await balance()).toBe(before);

    // Every function of the schema's own that reads tables resolves names without pg_temp first.
    const unpinned = (await asRuntime.query(
      `SELECT p.oid::regprocedure::text AS name FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f' AND p.provolatile <> 'i'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
          AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%pg_temp')`,
    )).rows;
    expect(unpinned).toEqual([]);

    // Its own rows it may still write, as requests do.
    expect(await refused(`UPDATE applications SET updated_at = updated_at WHERE false`)).toBeNull();
    expect(await refused(`INSERT INTO audit_pending (action) SELECT 'probe' WHERE false`)).toBeNull();
  });

  it('takes rights away at the next start when a release makes a table append-only, as the catalogue says', async () => {
    const owner = new Client({ connectionString: ownerUrl });
    await owner.connect();
    try {
      await owner.query(`CREATE TRIGGER hospitals_append_only BEFORE UPDATE OR DELETE ON hospitals FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
      await prepareDatabaseOnOwnConnection(ownerUrl, { migrate: true, keys: t.config.env, runtimeRole: runtime });
      expect(await refused(`UPDATE hospitals SET name = name WHERE false`)).toMatchObject({ code: '42501' });
      expect(await refused(`DELETE FROM hospitals WHERE false`)).toMatchObject({ code: '42501' });
      expect(await refused(`SELECT count(*) FROM hospitals`)).toBeNull();
    } finally {
      await owner.query(`DROP TRIGGER IF EXISTS hospitals_append_only ON hospitals`);
      await owner.end();
    }
    await prepareDatabaseOnOwnConnection(ownerUrl, { migrate: true, keys: t.config.env, runtimeRole: runtime });
    expect(await refused(`UPDATE hospitals SET name = name WHERE false`)).toBeNull();
  });

  it('refuses to start as a role never given its rights, naming what to do; `npm run migration:run` with the owner URL gives them', async () => {
    // With MIGRATIONS_RUN either way (its default, true, used to end in TypeORM's "permission denied for schema public").
    for (const migrate of [false, true]) {
      await expect(prepareDatabaseOnOwnConnection(urlOf(ungranted), { migrate, keys: t.config.env }, 3_000)).rejects.toThrow(
        /DATABASE_URL: its role may not read Sprout's tables .*DATABASE_OWNER_URL/s,
      );
    }

    const { stdout } = await promisify(execFile)('npx', ['ts-node', '--transpile-only', '-r', 'tsconfig-paths/register', 'src/database/migrate.ts'], {
      env: { ...process.env, DATABASE_URL: urlOf(ungranted), DATABASE_OWNER_URL: ownerUrl },
      timeout: 60_000,
    });
    expect(stdout).toContain(`gave ${ungranted} its rights on the tables`);
    await expect(prepareDatabaseOnOwnConnection(urlOf(ungranted), { migrate: false, keys: t.config.env }, 3_000)).resolves.toMatchObject({ pending: [], keys: 'matched' });
  }, 90_000);

  it('refuses to give rights to a role that owns a table, does not exist, or from a role that does not own them', async () => {
    const owner = new Client({ connectionString: ownerUrl });
    await owner.connect();
    const prepare = (url: string, role: string) =>
      prepareDatabaseOnOwnConnection(url, { migrate: false, keys: t.config.env, runtimeRole: role, setting: 'DATABASE_OWNER_URL' }, 3_000);
    try {
      // An installation whose service role owned the tables, now given an owner URL: it could still switch triggers off.
      await owner.query(`ALTER TABLE hospitals OWNER TO "${runtime}"`);
      await expect(prepare(ownerUrl, runtime)).rejects.toThrow(new RegExp(`DATABASE_URL: its role "${runtime}" is an owner of Sprout's tables .*REASSIGN OWNED`));
    } finally {
      await owner.query(`ALTER TABLE hospitals OWNER TO CURRENT_USER`);
      await owner.end();
    }
    await expect(prepare(ownerUrl, `${runtime}_missing`)).rejects.toThrow(`DATABASE_URL: its role "${runtime}_missing" does not exist`);
    // A role that may read the tables but owns none of them would have its GRANTs turned into warnings.
    await expect(prepare(urlOf(runtime), ungranted)).rejects.toThrow(/DATABASE_OWNER_URL: its role does not own [a-z_]+, .*use the tables' owner/);
  });

  it('refuses a role that owns nothing when it would migrate, saying migrations run as the owner', async () => {
    const empty = `${database}_empty`;
    await withAdminClient((client) => client.query(`CREATE DATABASE "${empty}"`));
    try {
      const url = new URL(databaseUrl(empty));
      url.username = ungranted;
      await expect(prepareDatabaseOnOwnConnection(url.toString(), { migrate: true, keys: t.config.env }, 3_000)).rejects.toThrow(
        /DATABASE_URL: its role may not change Sprout's schema \(permission denied for schema public\): .*set DATABASE_OWNER_URL/,
      );
    } finally {
      await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${empty}" WITH (FORCE)`));
    }
  });

  it('knows a superuser or the owner could switch the triggers off (start-up warns of it in production)', async () => {
    const owner = new Client({ connectionString: ownerUrl });
    await owner.connect();
    try {
      const [{ superuser }] = (await owner.query(`SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user`)).rows as { superuser: boolean }[];
      const bypass = await canBypassAppendOnly({ query: (sql: string, params: unknown[]) => owner.query(sql, params).then((r) => r.rows) } as never);
      expect(bypass).toBe(superuser ? 'superuser' : 'owner');
    } finally {
      await owner.end();
    }
  });
});
