import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { AddressInfo, connect, createServer, Server } from 'node:net';
import { join } from 'node:path';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { dataSourceOptions } from 'src/database/data-source';
import { ensureDatabase, prepareDatabaseOnOwnConnection, migrateOnOwnConnection, MIGRATION_LOCK, runMigrations } from 'src/database/database-bootstrap';
import { databaseUrl, withAdminClient } from 'test/setup/test-databases';
import { waitUntil } from 'test/support/wait-until';

/** Runs last (its timestamp is the largest): records the statement_timeout the migrations run under. */
class ZzzProbeStatementTimeout9999999999999 implements MigrationInterface {
  name = 'ZzzProbeStatementTimeout9999999999999';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE probe_migration_settings AS SELECT current_setting('statement_timeout') AS statement_timeout`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE probe_migration_settings');
  }
}

describe('Migrations at start-up (runMigrations)', () => {
  const name = `sprout_test_migrations_${randomUUID().slice(0, 8)}`;
  let dataSource: DataSource | undefined;
  beforeAll(() => withAdminClient((client) => client.query(`CREATE DATABASE "${name}"`)));
  afterAll(async () => {
    await dataSource?.destroy().catch(() => undefined);
    await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  });

  it('runs every migration on a pool of one connection, without the requests\' statement_timeout, and gives the connection back as it was', async () => {
    // A pool of one, and a short wait for a connection: with the lock on one connection and the migrations on
    // another, this waited for itself until the acquire timeout.
    const options = dataSourceOptions(databaseUrl(name), 1, 3_000);
    dataSource = new DataSource({ ...options, migrations: [...(options.migrations as string[]), ZzzProbeStatementTimeout9999999999999] } as typeof options);
    await dataSource.initialize();
    const ran = await runMigrations(dataSource);
    const files = readdirSync(join(__dirname, '..', 'migrations')).filter((f) => f.endsWith('.ts'));
    expect(ran).toHaveLength(files.length + 1);
    expect(ran[ran.length - 1]).toBe('ZzzProbeStatementTimeout9999999999999');
    expect(await dataSource.query('SELECT statement_timeout FROM probe_migration_settings')).toEqual([{ statement_timeout: '0' }]);
    // The pool's one connection serves requests again, with their timeout.
    expect(await dataSource.query(`SELECT current_setting('statement_timeout') AS t`)).toEqual([{ t: '30s' }]);
    // Nothing pending the second time.
    expect(await runMigrations(dataSource)).toEqual([]);
  });

  it('waits for a table lock only briefly, and tries again: a migration never queues for long in front of the traffic', async () => {
    await dataSource!.query('CREATE TABLE probe_busy (id int)');
    class ZzzzProbeAlterBusyTable9999999999999 implements MigrationInterface {
      name = 'ZzzzProbeAlterBusyTable9999999999999';
      async up(q: QueryRunner): Promise<void> {
        await q.query('ALTER TABLE probe_busy ADD COLUMN note text');
      }
      async down(q: QueryRunner): Promise<void> {
        await q.query('ALTER TABLE probe_busy DROP COLUMN note');
      }
    }
    const options = dataSourceOptions(databaseUrl(name), 1, 3_000);
    const withAlter = new DataSource({ ...options, migrations: [...(options.migrations as string[]), ZzzProbeStatementTimeout9999999999999, ZzzzProbeAlterBusyTable9999999999999] } as typeof options);
    await withAlter.initialize();
    // A long reader of the table (a report, a pg_dump) holds it for a while.
    const reader = await import('pg').then(({ Client }) => new Client({ connectionString: databaseUrl(name) }));
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT * FROM probe_busy');
      const waits: number[] = [];
      const migrating = runMigrations(withAlter, { lockWait: '200ms', pauseMs: 300 });
      // While the migration tries, other readers of the table are not held behind it for longer than its short wait.
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        await dataSource!.query('SELECT count(*) FROM probe_busy');
        waits.push(Date.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      await reader.query('COMMIT');
      expect(await migrating).toEqual(['ZzzzProbeAlterBusyTable9999999999999']);
      expect(Math.max(...waits)).toBeLessThan(5_000);
      const [{ n }] = await withAlter.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'probe_busy' AND column_name = 'note'`);
      expect(n).toBe(1);
    } finally {
      await reader.end();
      await withAlter.destroy();
    }
  });

  it('a start on a database never migrated (MIGRATIONS_RUN=false) is refused naming what to do; one a migration behind is the rolling upgrade, named', async () => {
    const empty = `${name}_pending`;
    await withAdminClient((client) => client.query(`CREATE DATABASE "${empty}"`));
    try {
      const keys = { DATA_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'), DATA_HASH_KEY: Buffer.alloc(32, 2).toString('base64') };
      const check = () => prepareDatabaseOnOwnConnection(databaseUrl(empty), { migrate: false, keys });
      await expect(check()).rejects.toThrow(/MIGRATIONS_RUN: the database has never been migrated .*migrate\.js/);
      // Migrated (as MIGRATIONS_RUN=true does), then checked, on the one connection.
      expect(await prepareDatabaseOnOwnConnection(databaseUrl(empty), { migrate: true, keys })).toMatchObject({ migrated: expect.arrayContaining(['DataKeyFingerprints1763700023900']), pending: [], keys: 'recorded' });
      expect(await check()).toEqual({ migrated: [], pending: [], keys: 'matched' });
      // The release before this one's last migrations (the key table among them): started, named, keys unchecked.
      const { Client } = await import('pg');
      const db = new Client({ connectionString: databaseUrl(empty) });
      await db.connect();
      try {
        await db.query(`DROP TABLE data_key_fingerprints`);
        await db.query(`DELETE FROM migrations WHERE name = 'DataKeyFingerprints1763700023900'`);
      } finally {
        await db.end();
      }
      expect(await check()).toEqual({ migrated: [], pending: ['DataKeyFingerprints1763700023900'], keys: 'unchecked' });
    } finally {
      await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${empty}" WITH (FORCE)`));
    }
  });

  it('a replica waiting for the migration lock holds no snapshot: a migration building an index CONCURRENTLY under the lock finishes', async () => {
    await dataSource!.query('CREATE TABLE probe_concurrently (id int)');
    const holder = await import('pg').then(({ Client }) => new Client({ connectionString: databaseUrl(name) }));
    await holder.connect();
    const options = dataSourceOptions(databaseUrl(name), 1, 3_000);
    const second = new DataSource({ ...options, migrations: [...(options.migrations as string[]), ZzzProbeStatementTimeout9999999999999] } as typeof options);
    await second.initialize();
    try {
      // The first replica holds the lock and runs a CONCURRENTLY migration while the second waits for the lock.
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const waiting = runMigrations(second, { pauseMs: 100 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await holder.query(`SET lock_timeout = '5s'`);
      await holder.query('CREATE INDEX CONCURRENTLY probe_concurrently_idx ON probe_concurrently (id)');
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      expect(await waiting).toEqual([]);
    } finally {
      await holder.end();
      await second.destroy();
    }
  });

  it('at start-up, migrates on a connection of its own that it closes, so the requests\' pool can bound every query', async () => {
    const fresh = `${name}_own`;
    await withAdminClient((client) => client.query(`CREATE DATABASE "${fresh}"`));
    try {
      const files = readdirSync(join(__dirname, '..', 'migrations')).filter((f) => f.endsWith('.ts'));
      expect(await migrateOnOwnConnection(databaseUrl(fresh), 3_000)).toHaveLength(files.length);
      // Its connection closed: the server process behind it ends a moment after the client leaves.
      const connections = () => withAdminClient((client) => client.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [fresh]));
      await waitUntil(async () => (await connections()).rows[0].n === 0, 5_000);
      expect(await migrateOnOwnConnection(databaseUrl(fresh), 3_000)).toEqual([]);
    } finally {
      await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${fresh}" WITH (FORCE)`));
    }
  });

  it('waits for a database that is not there yet (still starting, failing over) instead of failing the start', async () => {
    const late = `${name}_late`;
    const retries: unknown[] = [];
    try {
      const migrating = migrateOnOwnConnection(databaseUrl(late), 3_000, { tries: 20, pauseMs: 200, onRetry: (error) => retries.push(error) });
      await new Promise((resolve) => setTimeout(resolve, 700));
      await withAdminClient((client) => client.query(`CREATE DATABASE "${late}"`));
      expect((await migrating).length).toBeGreaterThan(0);
      expect(retries.length).toBeGreaterThan(0);
      await expect(migrateOnOwnConnection(databaseUrl(`${late}_never`), 3_000, { tries: 2, pauseMs: 10 })).rejects.toThrow(/does not exist/);
    } finally {
      await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${late}" WITH (FORCE)`));
    }
  });

  it('with auto-create, waits for a PostgreSQL server that is not listening yet before creating the database', async () => {
    const created = `${name}_created`;
    // A port nothing listens on, until a relay to the real server opens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const real = new URL(databaseUrl(created));
    const url = new URL(real.toString());
    url.hostname = '127.0.0.1';
    url.port = String(port);
    let relay: Server | undefined;
    const retries: unknown[] = [];
    try {
      const creating = ensureDatabase(url.toString(), { tries: 40, pauseMs: 100, onRetry: (error) => retries.push(error) });
      await new Promise((resolve) => setTimeout(resolve, 500));
      relay = createServer((socket) => socket.pipe(connect(Number(real.port || 5432), real.hostname)).pipe(socket)).listen(port, '127.0.0.1');
      await creating;
      expect(retries.length).toBeGreaterThan(0);
      const found = await withAdminClient((client) => client.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [created]));
      expect(found.rowCount).toBe(1);
      await expect(ensureDatabase(`postgres://postgres@127.0.0.1:${port + 1}/x`, { tries: 2, pauseMs: 10 })).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      relay?.close();
      await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${created}" WITH (FORCE)`));
    }
  });
});
