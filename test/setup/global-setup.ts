import 'reflect-metadata';
import { register } from 'tsconfig-paths';
// globalSetup runs outside jest's module mapper; entities and migrations import by `src/...` paths.
register({ baseUrl: `${__dirname}/../..`, paths: { 'src/*': ['src/*'] } });
import type { Config } from '@jest/types';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source';
import { grantRuntimeRights } from '../../src/database/runtime-role';
import { databaseUrl, runtimeRoleOfRun, templateDatabase, withAdminClient, workerDatabase } from './test-databases';

/**
 * Migrates one template database once, then clones it for every jest worker (one database per worker),
 * so e2e files run against the real schema without re-running migrations.
 */
export default async function globalSetup(globalConfig: Config.GlobalConfig): Promise<void> {
  const runId = `${Date.now().toString(36)}_${process.pid}`;
  process.env.SPROUT_TEST_RUN = runId;
  const template = templateDatabase(runId);
  await withAdminClient(async (client) => {
    await dropStale(client);
    await client.query(`CREATE DATABASE "${template}"`);
  });
  const dataSource = new DataSource(dataSourceOptions(databaseUrl(template), 2));
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  const role = runtimeRoleOfRun(runId);
  if (role) await giveRuntimeRights(dataSource, role);
  await dataSource.destroy();
  const workers = Math.max(1, globalConfig.maxWorkers);
  await withAdminClient(async (client) => {
    for (let w = 1; w <= workers; w++) await client.query(`CREATE DATABASE "${workerDatabase(runId, w)}" TEMPLATE "${template}"`);
  });
}

/** The run's runtime role, its rights given in the template (the workers' databases are copies of it, rights included). */
async function giveRuntimeRights(dataSource: DataSource, role: string): Promise<void> {
  await dataSource.query(`CREATE ROLE "${role}" LOGIN`);
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await grantRuntimeRights(runner, role);
  } finally {
    await runner.release();
  }
}

/** Databases of runs that died before their teardown, over six hours ago (other runs may be going on now). */
async function dropStale(client: import('pg').Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'sprout\\_test\\_%'`);
  const cutoff = Date.now() - 6 * 3600_000;
  for (const { datname } of rows) {
    const started = parseInt(datname.split('_')[2] ?? '', 36);
    if (Number.isFinite(started) && started < cutoff) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
  }
}
