import 'reflect-metadata';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from 'src/database/snake-naming.strategy';

/** The server cancels a statement after this long (migrations lift it on their own connection). */
export const STATEMENT_TIMEOUT_MS = 30_000;

/**
 * How long a pool's client waits for an answer: the server cancels any statement at STATEMENT_TIMEOUT_MS, so one still
 * unanswered a little later went with the server (a host crash, a failover), and its connection is dropped.
 */
export const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 5_000;

/**
 * The one DataSource definition, used by the application, by `npm run migration:run` (migrate.ts) and by the TypeORM
 * CLI (migration-cli.ts). `synchronize` is never on: the schema changes only by migrations.
 *
 * `queryTimeoutMs`: how long the client itself waits for an answer (QUERY_TIMEOUT_MS), for pools that never run a
 * statement longer than STATEMENT_TIMEOUT_MS: the worker's. Not the migrations' connection (migrateOnOwnConnection),
 * which lifts statement_timeout, nor the requests' pool (app.module.ts says why).
 */
export function dataSourceOptions(
  url: string,
  poolSize = 10,
  acquireTimeoutMs = 20_000,
  applicationName = 'sprout',
  { queryTimeoutMs }: { queryTimeoutMs?: number } = {},
): DataSourceOptions {
  const ext = __filename.endsWith('.ts') ? 'ts' : 'js';
  return {
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    entities: [join(__dirname, '..', '**', `*.entity.${ext}`)],
    migrations: [join(__dirname, '..', '..', 'migrations', `*.${ext}`)],
    namingStrategy: new SnakeNamingStrategy(),
    extra: {
      max: poolSize,
      // Waiting for a pooled connection counts too: under a burst (200 approvals at once) requests queue here
      // rather than fail; a database that is down refuses at once and is answered with 503.
      connectionTimeoutMillis: acquireTimeoutMs,
      // A statement stuck behind a lock or a dead server fails instead of hanging the request forever.
      statement_timeout: STATEMENT_TIMEOUT_MS,
      idle_in_transaction_session_timeout: 60000,
      application_name: applicationName,
      // A server that vanished without closing TCP (a host crash, a failover that moved its address): probes start
      // after 10 s of silence; when they give up is the kernel's (tcp_keepalive_intvl × _probes, ~11 min by Linux
      // defaults), so where it is safe queryTimeoutMs bounds a query's wait instead.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs, Client: ClientDroppedOnTimeout } : {}),
    },
  };
}

/**
 * pg's query_timeout fails a query that got no answer, but keeps its connection, still waiting for that answer: back
 * in the pool it would fail every later query the same way until TCP gives up. Closed instead, it leaves the pool,
 * which opens a new one (after a failover, to the server's new address).
 */
class ClientDroppedOnTimeout extends Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one body for all of pg's overloads
  override query(...args: unknown[]): any {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (error: unknown, result: unknown) => {
        this.dropOnTimeout(error);
        (callback as (error: unknown, result: unknown) => void)(error, result);
      };
    }
    const result = (super.query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) result.catch((error: unknown) => this.dropOnTimeout(error));
    return result;
  }

  private dropOnTimeout(error: unknown): void {
    // end() marks the client at once (the pool drops it when released) and, under a query still unanswered, closes
    // the socket rather than saying goodbye to a server that is gone.
    if ((error as Error | null)?.message === 'Query read timeout') void this.end();
  }
}
