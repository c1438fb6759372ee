import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** Distinct statement texts named; the hot paths have a few dozen. Past this, names are recomputed (same result). */
const NAMES_KEPT = 512;
const names = new Map<string, string>();

/**
 * Runs `sql` on the transaction's connection as a named prepared statement: PostgreSQL parses and plans it once per
 * connection (and keeps a generic plan when it is no costlier) instead of on every call, as it does for the unnamed
 * statements TypeORM sends. For hot statements whose text is fixed per call site, inside a transaction (PreparedQueries
 * does the same for reads outside one; both name a text the same way, so one text is one statement per connection).
 * On the DataSource's manager (no query runner), prepared too, on any pooled connection: a statement of its own,
 * atomic by itself (deferred triggers fire when it ends). On a query runner outside a transaction, a plain query.
 */
export async function queryPrepared<T>(tx: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const query = { name: preparedStatementName(sql), text: sql, values: params };
  // The DataSource's own manager: any pooled connection, the statement its own (implicit) transaction.
  if (!tx.queryRunner) return (await ((tx.connection.driver as PostgresDriver).master as Pool).query(query)).rows as T[];
  if (!tx.queryRunner.isTransactionActive) return (await tx.query(sql, params)) as T[];
  const client = (await tx.queryRunner.connect()) as PoolClient;
  return (await client.query(query)).rows as T[];
}

/** A stable name per text: pg refuses one name for two texts, and the same text must reuse its statement. */
export function preparedStatementName(sql: string): string {
  let name = names.get(sql);
  if (!name) {
    name = `sprout_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    if (names.size < NAMES_KEPT) names.set(sql, name);
  }
  return name;
}
