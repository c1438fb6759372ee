import { randomBytes } from 'node:crypto';
import { databaseUrl, runtimeRoleOfRun, workerDatabase } from './test-databases';

// Each jest worker gets its own database and Redis logical database; each test file its own queue prefix, so emails a
// file leaves queued when it ends are never sent to the next file's SMTP sink (jest gives every file its own process.env).
const runId = process.env.SPROUT_TEST_RUN ?? 'adhoc';
const worker = process.env.JEST_WORKER_ID ?? '1';
process.env.NODE_ENV = 'test';
const databaseAs = new URL(databaseUrl(workerDatabase(runId, worker)));
const runtimeRole = runtimeRoleOfRun(runId);
if (runtimeRole) databaseAs.username = runtimeRole;
process.env.DATABASE_URL = databaseAs.toString();
process.env.DATABASE_AUTO_CREATE = 'false';
process.env.MIGRATIONS_RUN = 'false';
process.env.REDIS_URL = `${process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/${(Number(worker) % 15) + 1}`;
process.env.QUEUE_PREFIX = `sprout-test-${runId}-w${worker}-${randomBytes(4).toString('hex')}`;
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';
process.env.OUTBOX_POLL_MS = '50';
process.env.NOTIFY_BACKOFF_MS = '100';
process.env.DEV_SECRETS_FILE = `var/test-secrets-${runId}.json`;
process.env.JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';
process.env.DATA_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
process.env.DATA_HASH_KEY = Buffer.alloc(32, 9).toString('base64');
process.env.UPLOAD_DIR = `var/test-uploads-${runId}-w${worker}`;
delete process.env.ADMIN_EMAIL;
delete process.env.ADMIN_PASSWORD;
delete process.env.SMTP_URL;
