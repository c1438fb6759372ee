import { Client } from 'pg';

export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdminClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export const templateDatabase = (runId: string) => `sprout_test_${runId}_tpl`;
/**
 * SPROUT_TEST_RUNTIME_ROLE=1: the service under test signs in as a role of the run's own with the rights
 * grantRuntimeRights gives (README "Database roles"), to find a path that needs more. Tests that write the database
 * as a superuser would (triggers off, a sequence set, a trigger of their own) fail in that mode by design.
 */
export const runtimeRoleOfRun = (runId: string) => (process.env.SPROUT_TEST_RUNTIME_ROLE === '1' ? `sprout_test_rt_${runId}` : null);
export const workerDatabase = (runId: string, worker: string | number) => `sprout_test_${runId}_w${worker}`;
