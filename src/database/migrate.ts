import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { migrateOnOwnConnection } from 'src/database/database-bootstrap';

/**
 * Runs the pending migrations by hand as start-up does (MIGRATIONS_RUN): under the same advisory lock, so it is safe
 * beside running replicas. `npm run migration:run` from the sources; `node dist/src/database/migrate.js` in the image.
 */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const ran = await migrateOnOwnConnection(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sprout');
  process.stdout.write(ran.length ? `ran ${ran.length} migration(s): ${ran.join(', ')}\n` : 'no pending migrations\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
