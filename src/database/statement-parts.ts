import { EntityManager } from 'typeorm';
import { queryPrepared } from 'src/database/prepared-query';

/** One SQL statement with its own $1…$n parameters. */
export type SqlPart = { sql: string; params: unknown[] };

/**
 * Runs several writes as one statement, each part a data-modifying CTE (`w0`, `w1`, …), so they cost one round trip
 * instead of one each. All parts run, whatever `select` reads; foreign keys and other row triggers see every part's
 * rows (they fire at the end of the statement), deferred ones still at COMMIT. Returns the rows of `select`, which may
 * read the parts' RETURNING rows (`SELECT count(*) FROM w0`). A prepared statement (queryPrepared).
 */
export async function writeTogether<T>(tx: EntityManager, parts: SqlPart[], select: string): Promise<T[]> {
  const params: unknown[] = [];
  const ctes = parts.map((part, i) => {
    const offset = params.length;
    params.push(...part.params);
    return `w${i} AS (${renumber(part.sql, offset)})`;
  });
  return queryPrepared<T>(tx, `WITH ${ctes.join(', ')} ${select}`, params);
}

/** `$n` → `$(n + offset)`. Parts hold no dollar-quoted strings. */
export function renumber(sql: string, offset: number): string {
  return offset === 0 ? sql : sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
}
