import 'reflect-metadata';
import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from 'src/database/snake-naming.strategy';

/**
 * The one DataSource definition, used by the application, by `npm run migration:run` (migrate.ts) and by the TypeORM
 * CLI (migration-cli.ts). `synchronize` is never on: the schema changes only by migrations.
 */
export function dataSourceOptions(url: string, poolSize = 10, acquireTimeoutMs = 20_000, applicationName = 'sprout'): DataSourceOptions {
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
      statement_timeout: 30000,
      idle_in_transaction_session_timeout: 60000,
      application_name: applicationName,
    },
  };
}
