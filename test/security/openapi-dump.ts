import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Client } from 'pg';
import { createApp } from 'src/app.factory';
import { createRootLogger } from 'src/common/logging/logger';
import { loadConfig } from 'src/config/app-config';

/**
 * Writes the OpenAPI document the api role serves at /docs-json to a file (default var/openapi.json), for
 * `npm run lint:api`. Boots the real app (APP_ROLE=api) against a throwaway database created and dropped here, so
 * the document is exactly the one clients get. PostgreSQL must be reachable at DATABASE_URL's server.
 *
 *   ts-node -r tsconfig-paths/register test/security/openapi-dump.ts [out.json]
 */
async function main(): Promise<void> {
  const out = process.argv[2] ?? 'var/openapi.json';
  const server = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const name = `sprout_openapi_${process.pid}_${Date.now().toString(36)}`;
  server.pathname = `/${name}`;
  const config = loadConfig({
    ...process.env,
    APP_ROLE: 'api',
    NODE_ENV: 'test',
    DATABASE_URL: server.toString(),
    DATABASE_AUTO_CREATE: 'true',
    MIGRATIONS_RUN: 'true',
    LOG_LEVEL: 'silent',
    DEV_SECRETS_FILE: `var/openapi-dump-secrets-${process.pid}.json`,
    JWT_SECRET: 'openapi-dump-only-openapi-dump-only-0123456789',
    DATA_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    DATA_HASH_KEY: Buffer.alloc(32, 2).toString('base64'),
    ADMIN_EMAIL: '',
    ADMIN_PASSWORD: '',
  });
  try {
    const app = await createApp(config, createRootLogger('silent'));
    const res = await app.inject({ method: 'GET', url: '/docs-json' });
    await app.close();
    if (res.statusCode !== 200) throw new Error(`/docs-json answered ${res.statusCode}`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(JSON.parse(res.body), null, 2));
    process.stdout.write(`OpenAPI document written to ${out}\n`);
  } finally {
    const admin = new URL(server.toString());
    admin.pathname = '/postgres';
    const client = new Client({ connectionString: admin.toString() });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
