import Redis from 'ioredis';
import { runtimeRoleOfRun, withAdminClient } from './test-databases';

export default async function globalTeardown(): Promise<void> {
  const runId = process.env.SPROUT_TEST_RUN;
  if (!runId) return;
  await withAdminClient(async (client) => {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`sprout_test_${runId}_%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    const role = runtimeRoleOfRun(runId);
    if (role) await client.query(`DROP ROLE IF EXISTS "${role}"`);
  });
  await deleteQueueKeys(`sprout-test-${runId}-`);
}

/** The run's queues (one prefix per test file, in logical databases 1–15 as worker-env.ts gives them out). */
async function deleteQueueKeys(prefix: string): Promise<void> {
  const base = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  for (let db = 1; db <= 15; db++) {
    const redis = new Redis(`${base}/${db}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
        if (keys.length) await redis.unlink(...keys);
      }
    } finally {
      redis.disconnect();
    }
  }
}
