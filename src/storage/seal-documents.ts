import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { loadConfig } from 'src/config/app-config';
import { ConfigValidationError } from 'src/config/env.schema';
import { prepareDatabaseOnOwnConnection } from 'src/database/database-bootstrap';
import { documentStorage } from 'src/storage/storage.module';

/**
 * Encrypts, in place, the documents stored before Sprout encrypted them (they stay readable either way). Run once
 * after upgrading, beside running replicas if need be, and again at will: `npm run documents:seal` from the sources,
 * `node dist/src/storage/seal-documents.js` in the image. Reads `.env` as `npm start` does.
 */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig(process.env);
  // Keys the service's data was not written with (run without the service's settings, a development key file
  // generated on the spot) would seal the documents under a key the service cannot open: refused, naming the setting.
  await prepareDatabaseOnOwnConnection(config.env.DATABASE_URL, { migrate: false, keys: config.env }, config.env.DATABASE_ACQUIRE_TIMEOUT_MS);
  const { sealed, alreadySealed } = await documentStorage(config).sealStoredBefore('');
  process.stdout.write(`encrypted ${sealed} stored file(s); ${alreadySealed} already were\n`);
}

main().catch((error: unknown) => {
  // A setting found wrong (a data key that is not the data's): named, no stack, EX_CONFIG as at start-up.
  if (error instanceof ConfigValidationError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
