import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { runMigrations } from 'src/database/database-bootstrap';
import { dataSourceOptions } from 'src/database/data-source';
import { databaseUrl, withAdminClient } from 'test/setup/test-databases';

/**
 * An empty database of the describe block's own (no migrations run), for tests of migrations on rows written before
 * them: created in beforeAll, dropped in afterAll. Named by the time it was made, as the test runs' databases are, so a
 * later run's start-up drops it if this one died before its afterAll.
 */
export function scratchDatabase(label: string): () => DataSource {
  const name = `sprout_test_${Date.now().toString(36)}_${label}_${randomUUID().slice(0, 8)}`;
  let dataSource: DataSource | undefined;
  beforeAll(async () => {
    await withAdminClient((client) => client.query(`CREATE DATABASE "${name}"`));
    dataSource = new DataSource(dataSourceOptions(databaseUrl(name), 2, 3_000));
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy().catch(() => undefined);
    await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  });
  return () => dataSource!;
}

/** The names of the migrations applied, in order. */
export async function appliedMigrations(dataSource: DataSource): Promise<string[]> {
  return ((await dataSource.query(`SELECT name FROM migrations ORDER BY id`)) as { name: string }[]).map((m) => m.name);
}

/**
 * Runs every migration, then undoes them back to before the first of `migrations` (names without their timestamp;
 * those after it are undone too), so that rows can be written as an earlier release wrote them.
 */
export async function migratedUntil(dataSource: DataSource, ...migrations: string[]): Promise<void> {
  await runMigrations(dataSource);
  while ((await appliedMigrations(dataSource)).some((name) => migrations.some((m) => name.startsWith(m)))) await dataSource.undoLastMigration();
}
