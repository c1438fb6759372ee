import { Client } from 'pg';
import { ConfigValidationError } from 'src/config/env.schema';
import { checkDataKeys, DataKeys } from 'src/database/data-keys-check';
import { grantRuntimeRights } from 'src/database/runtime-role';
import { DataSource, MigrationExecutor, QueryRunner } from 'typeorm';
import { dataSourceOptions } from 'src/database/data-source';

export const MIGRATION_LOCK = 727_001; // any constant shared by every Sprout process

/** How often, and how far apart, start-up tries to reach the database for its migrations (TypeORM's module: 9 × 3 s). */
const CONNECT_TRIES = 10;
const CONNECT_RETRY_PAUSE_MS = 3_000;
type ConnectRetry = { tries?: number; pauseMs?: number; onRetry?: (error: unknown) => void };

/**
 * Opens a connection with `open`, trying again while the server is not reachable yet (still starting, failing over):
 * at boot that is waited for, not a reason to crash every replica, as TypeORM's module waits for the requests' pool.
 */
async function connectWithRetries<T>(open: () => Promise<T>, { tries = CONNECT_TRIES, pauseMs = CONNECT_RETRY_PAUSE_MS, onRetry = () => {} }: ConnectRetry): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      if (attempt >= tries) throw error;
      onRetry(error);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/**
 * Creates the database named in the URL when it is missing (development convenience, off in production). A server not
 * reachable yet is waited for, as the migrations wait for it: the README's promise held only without auto-create.
 */
export async function ensureDatabase(url: string, retry: ConnectRetry = {}): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = await connectWithRetries(async () => {
    const attempt = new Client({ connectionString: admin.toString() });
    try {
      await attempt.connect();
      return attempt;
    } catch (error) {
      await attempt.end().catch(() => undefined);
      throw error;
    }
  }, retry);
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        // Created meanwhile by another process: 42P04 once it has committed, 23505 (pg_database's unique name) while it is.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/** Which setting's role a connection signs in as, for the messages that refuse it. */
export type DatabaseSetting = 'DATABASE_URL' | 'DATABASE_OWNER_URL';
type AsRole = { runtimeRole?: string | null; setting?: DatabaseSetting };

/**
 * Runs the pending migrations (runMigrations) on a connection of their own, opened and closed here, before the
 * requests' pool exists: nothing of theirs (session settings, a long lock wait) is left on a connection requests use.
 * Then, given the runtime role (`url` being the owner's), its rights on the tables as this release's schema has them.
 */
export async function migrateOnOwnConnection(url: string, acquireTimeoutMs = 20_000, retry: ConnectRetry = {}, as: AsRole = {}): Promise<string[]> {
  return onOwnConnection(url, acquireTimeoutMs, retry, (dataSource) => migrateAndGrant(dataSource, true, as));
}

export type DatabaseChecked = { pending: string[]; keys: 'matched' | 'recorded' | 'unproven' | 'unchecked' };

/**
 * What start-up (and `documents:seal`) does to the database before anything reads or writes it, on one connection of
 * its own: the pending migrations when `migrate` (MIGRATIONS_RUN), the runtime role's rights when the tables belong to
 * another role (`url` is then the owner's, DATABASE_OWNER_URL), then checkDatabase.
 */
export async function prepareDatabaseOnOwnConnection(
  url: string,
  { migrate, keys, ...as }: { migrate: boolean; keys: DataKeys } & AsRole,
  acquireTimeoutMs = 20_000,
  retry: ConnectRetry = {},
): Promise<DatabaseChecked & { migrated: string[] }> {
  return onOwnConnection(url, acquireTimeoutMs, retry, async (dataSource) => {
    const migrated = await migrateAndGrant(dataSource, migrate, as);
    return { migrated, ...(await checkDatabase(dataSource, keys, as.setting)) };
  });
}

/**
 * A role that may not read the tables is refused before TypeORM looks for its own: that lookup (information_schema)
 * hides a table the role has no rights on, so it then reported a database never migrated, or tried to create the
 * table and failed on the schema.
 */
async function migrateAndGrant(dataSource: DataSource, migrate: boolean, { runtimeRole, setting = 'DATABASE_URL' }: AsRole): Promise<string[]> {
  const [{ readable }] = (await dataSource.query(
    `SELECT to_regclass('public.migrations') IS NULL OR has_table_privilege('public.migrations', 'SELECT') AS readable`,
  )) as { readable: boolean }[];
  if (!readable) throw refusal(setting, 'read', 'permission denied for table migrations');
  const migrated = migrate ? await runMigrations(dataSource).catch(refusedAs(setting, 'change')) : [];
  if (runtimeRole) await grantUnderMigrationLock(dataSource, runtimeRole);
  return migrated;
}

/** grantRuntimeRights, on a connection holding the migration lock: after a release's migrations, before its requests. */
async function grantUnderMigrationLock(dataSource: DataSource, role: string): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await takeMigrationLock(runner, MIGRATION_LOCK_POLL_MS);
    await grantRuntimeRights(runner, role);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

/**
 * A database never migrated (MIGRATIONS_RUN=false on an empty one) is refused, naming what to do: the service used to
 * fail later on a missing table. One with some migrations pending is the documented rolling upgrade (new workers
 * before the api that migrates, each release able to run on the schema before it): named, not refused. Then
 * checkDataKeys, unless its table is not there yet (that same upgrade): 'unchecked'.
 */
async function checkDatabase(dataSource: DataSource, keys: DataKeys, setting: DatabaseSetting = 'DATABASE_URL'): Promise<DatabaseChecked> {
  const executor = new MigrationExecutor(dataSource);
  const pending = (await executor.getPendingMigrations().catch(refusedAs(setting, 'read'))).map((m) => m.name);
  if (pending.length && (await executor.getExecutedMigrations()).length === 0) {
    throw new ConfigValidationError(
      `Invalid configuration:\n  - MIGRATIONS_RUN: the database has never been migrated (${pending.length} migrations pending): ` +
        'start one process with MIGRATIONS_RUN=true, or run `node dist/src/database/migrate.js`, first',
    );
  }
  try {
    return { pending, keys: await checkDataKeys(dataSource, keys) };
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return { pending, keys: 'unchecked' }; // data_key_fingerprints: not migrated yet
    throw error;
  }
}

/**
 * What a role may not do to Sprout's tables, as a setting to correct: read them (one the owner has not given its rights
 * yet, DATABASE_OWNER_URL), or change the schema (migrations run as the tables' owner).
 */
function refusal(setting: DatabaseSetting, may: 'read' | 'change', detail: string): ConfigValidationError {
  const owner = setting === 'DATABASE_OWNER_URL';
  const what =
    may === 'read'
      ? `its role may not read Sprout's tables (${detail}): ` +
        (owner ? "it must be the tables' owner" : "run the migrations as the tables' owner with DATABASE_OWNER_URL set (npm run migration:run, or one process started with it), which gives DATABASE_URL's role its rights")
      : `its role may not change Sprout's schema (${detail}): migrations run as the tables' owner: ` +
        (owner ? "use the tables' owner" : "set DATABASE_OWNER_URL to the owner's connection, or MIGRATIONS_RUN=false and run `npm run migration:run` with it apart");
  return new ConfigValidationError(`Invalid configuration:\n  - ${setting}: ${what}`);
}

/** refusal() for a query that failed for want of a right (42501); any other failure passes through. */
function refusedAs(setting: DatabaseSetting, may: 'read' | 'change'): (error: unknown) => never {
  return (error) => {
    if ((error as { code?: string }).code !== '42501') throw error;
    throw refusal(setting, may, (error as Error).message);
  };
}

/** A DataSource of one connection (`sprout-migrate` in pg_stat_activity), waited for as start-up waits, closed after `work`. */
async function onOwnConnection<T>(url: string, acquireTimeoutMs: number, retry: ConnectRetry, work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const dataSource = await connectWithRetries(() => new DataSource(dataSourceOptions(url, 1, acquireTimeoutMs, 'sprout-migrate')).initialize(), retry);
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * The migration lock, asked for again and again rather than waited for inside one statement: a replica waiting in
 * `pg_advisory_lock` holds a snapshot all the while, and a migration building an index CONCURRENTLY (which waits for
 * every snapshot older than itself) under the lock then waited for it, and it for the lock: "deadlock detected", and
 * one of two replicas starting together failed (an operator's test, three times out of three).
 */
async function takeMigrationLock(runner: QueryRunner, pauseMs: number): Promise<void> {
  const poll = Math.min(pauseMs, MIGRATION_LOCK_POLL_MS);
  for (;;) {
    const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK])) as { locked: boolean }[];
    if (locked) return;
    await new Promise((resolve) => setTimeout(resolve, poll));
  }
}
const MIGRATION_LOCK_POLL_MS = 500;

/** How long one migration statement may wait for a table lock, and how often a migration that waited too long is tried again. */
const MIGRATION_LOCK_WAIT = '10s';
const MIGRATION_TRIES = 6;
const MIGRATION_RETRY_PAUSE_MS = 5_000;

/**
 * Runs pending migrations under an advisory lock, so api and worker replicas starting together never race. All on the
 * one connection that holds the lock (a pool of one would otherwise wait for itself), with no statement_timeout: a
 * migration of a large table (an index, a VALIDATE CONSTRAINT) may take longer than a request may, and so may waiting
 * for another replica's migrations. But a table lock is waited for at most MIGRATION_LOCK_WAIT: a migration queued
 * behind a long reader would hold every later query of that table behind it. One that waited too long, or lost a
 * deadlock to the traffic, is rolled back and tried again (each migration is its own transaction). The connection
 * goes back to the pool with its settings as they were.
 */
export async function runMigrations(dataSource: DataSource, { lockWait = MIGRATION_LOCK_WAIT, pauseMs = MIGRATION_RETRY_PAUSE_MS } = {}): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const done: string[] = [];
  try {
    await runner.query('SET statement_timeout = 0');
    await takeMigrationLock(runner, pauseMs);
    await runner.query(`SET lock_timeout = '${lockWait}'`);
    for (let attempt = 1; ; attempt++) {
      try {
        const executor = new MigrationExecutor(dataSource, runner);
        executor.transaction = 'each';
        done.push(...(await executor.executePendingMigrations()).map((m) => m.name));
        return done;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if ((code !== '55P03' && code !== '40P01') || attempt >= MIGRATION_TRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.query('RESET statement_timeout').catch(() => undefined);
    await runner.query('RESET lock_timeout').catch(() => undefined);
    await runner.release();
  }
}
