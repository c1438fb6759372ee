import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Runs `work` on a connection of its own that holds the session advisory lock `key`, or answers null at once when
 * another session holds it. A session lock rather than a transaction's: the work may take minutes, and a transaction
 * open that long would hold back vacuum. A connection that may still hold the lock (giving it back failed) is closed
 * rather than returned to the pool, and the lock ends with it.
 */
export async function withTryAdvisoryLock<T>(dataSource: DataSource, key: number, work: (connection: PoolClient) => Promise<T>): Promise<T | null> {
  const client = await ((dataSource.driver as PostgresDriver).master as Pool).connect();
  let held: boolean | undefined;
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]);
    held = rows[0].locked;
    return held ? await work(client) : null;
  } finally {
    if (held) await client.query('SELECT pg_advisory_unlock($1)', [key]).then(() => (held = false), () => undefined);
    client.release(held === false ? undefined : new Error('advisory lock not known to be released'));
  }
}
