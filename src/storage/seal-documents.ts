import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { loadConfig } from 'src/config/app-config';
import { documentStorage } from 'src/storage/storage.module';

/**
 * Encrypts, in place, the documents stored before Sprout encrypted them (they stay readable either way). Run once
 * after upgrading, beside running replicas if need be, and again at will: `npm run documents:seal` from the sources,
 * `node dist/src/storage/seal-documents.js` in the image. Reads `.env` as `npm start` does.
 */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { sealed, alreadySealed } = await documentStorage(loadConfig(process.env)).sealStoredBefore('');
  process.stdout.write(`encrypted ${sealed} stored file(s); ${alreadySealed} already were\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
