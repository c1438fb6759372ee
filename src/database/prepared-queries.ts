import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { preparedStatementName } from 'src/database/prepared-query';

/*
 * BATCH_ARRAYS_NOTE — statements that serve a batch of requests take their items as arrays, unnested. Given the
 * arrays as plain parameters, PostgreSQL plans such a statement again at every execution: a custom plan sees how
 * many elements the arrays have, the generic plan guesses ten, so for the small batches of a quiet service the
 * custom plan always looks cheaper, and planning a three-table join cost ~0.19 ms per execution, six times the
 * execution (pgbench -M prepared, one client: 5,086 executions/s against 13,296 for the single-row statement it
 * replaced). Read through scalar subqueries — `unnest((SELECT $1::uuid[]))` — the length is hidden from both plans,
 * the costs tie, and after five executions PostgreSQL keeps the generic one (11,272/s). test/request-batching.e2e-spec.ts
 * checks that no plan of a batched statement depends on its batch's size (that the generic plan is then kept depends on
 * the tables' statistics, which a test database does not have).
 */

/**
 * Reads on the hot path as named prepared statements: PostgreSQL parses and plans each statement once per pooled
 * connection instead of on every request. For the session check this is most of its database CPU (a join planned
 * every time: 0.28 ms of backend CPU per execution unnamed, 0.05 ms prepared; BENCHMARKS.md, issue 8).
 *
 * `text` must be a constant shape (values only as $n parameters): each distinct text becomes one prepared
 * statement on every connection of the pool. Queries go straight to the pool TypeORM owns (same connections,
 * same settings), outside any transaction — for reads that need one, use the EntityManager.
 */
@Injectable()
export class PreparedQueries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async rows<T extends QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
    const result = await this.pool().query<T>({ name: preparedStatementName(text), text, values });
    return result.rows;
  }

  private pool(): Pool {
    return (this.dataSource.driver as PostgresDriver).master as Pool;
  }
}
