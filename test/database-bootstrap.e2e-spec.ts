import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { dataSourceOptions } from 'src/database/data-source';
import { runMigrations } from 'src/database/database-bootstrap';
import { databaseUrl, withAdminClient } from 'test/setup/test-databases';

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
});
