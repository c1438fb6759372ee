import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { ConfigValidationError, ownerUrlProblems } from 'src/config/env.schema';
import { migrateOnOwnConnection } from 'src/database/database-bootstrap';
import { runtimeRoleOf } from 'src/database/runtime-role';

/**
 * Runs the pending migrations by hand as start-up does (MIGRATIONS_RUN): under the same advisory lock, so it is safe
 * beside running replicas. `npm run migration:run` from the sources; `node dist/src/database/migrate.js` in the image.
 * As the tables' owner when DATABASE_OWNER_URL is set, and then gives DATABASE_URL's role its rights, so that the
 * service itself never needs the owner's password (docker-compose.yml's `migrate` service).
 */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const runtimeUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sprout';
  const ownerUrl = process.env.DATABASE_OWNER_URL || undefined;
  const problems = ownerUrlProblems({ DATABASE_URL: runtimeUrl, DATABASE_OWNER_URL: ownerUrl });
  if (problems.length) throw new ConfigValidationError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  const runtimeRole = runtimeRoleOf(runtimeUrl, ownerUrl);
  const ran = await migrateOnOwnConnection(ownerUrl ?? runtimeUrl, undefined, undefined, { runtimeRole, setting: ownerUrl ? 'DATABASE_OWNER_URL' : 'DATABASE_URL' });
  process.stdout.write(ran.length ? `ran ${ran.length} migration(s): ${ran.join(', ')}\n` : 'no pending migrations\n');
  if (runtimeRole) process.stdout.write(`gave ${runtimeRole} its rights on the tables\n`);
}

main().catch((error: unknown) => {
  // As start-up: a setting to correct is named without a stack, exit code 78 (EX_CONFIG), not a crash to retry.
  if (error instanceof ConfigValidationError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
