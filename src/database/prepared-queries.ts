import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { preparedStatementName } from 'src/database/prepared-query';

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
