import { getDataSourceToken } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, QueryRunner } from 'typeorm';
import { OutboxService } from 'src/notifications/outbox.service';
import { SAMPLE_TEMPLATE_CONTEXTS } from 'src/notifications/templates/sample-template-contexts';
import { TEMPLATE_NAMES } from 'src/notifications/templates/template-contexts';
import { WORKER_DATA_SOURCE } from 'src/notifications/worker-data-source';
import { PASSWORD, uniqueEmail } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';
import { waitUntil } from 'test/support/wait-until';

/** With APP_ROLE=all (as here) the worker's connections are its own: neither side can take the other's. */
describe('The worker database pool (e2e)', () => {
  let t: TestApp;
  let workerDataSource: DataSource;

  beforeAll(async () => {
    t = await startTestApp({ DATABASE_POOL_SIZE: '2', WORKER_DATABASE_POOL_SIZE: '2', DATABASE_ACQUIRE_TIMEOUT_MS: '30000', OUTBOX_POLL_MS: '50' });
    workerDataSource = t.app.get<DataSource>(getDataSourceToken(WORKER_DATA_SOURCE));
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  /** Takes every connection of a pool; the pool's other users wait until they are released. */
  async function holdAll(dataSource: DataSource, size: number): Promise<QueryRunner[]> {
    const runners = Array.from({ length: size }, () => dataSource.createQueryRunner());
    await Promise.all(runners.map((r) => r.connect()));
    return runners;
  }
  const releaseAll = (runners: QueryRunner[]) => Promise.all(runners.map((r) => r.release()));

  it('sends emails while every connection of the requests pool is taken', async () => {
    const held = await holdAll(t.dataSource, 2);
    try {
      const email = uniqueEmail('pool');
      const template = TEMPLATE_NAMES[0];
      // Written on a held connection: the outbox row exists only through it, as a request's would.
      await t.app.get(OutboxService).enqueue(held[0].manager, { event: 'test.pool', template, to: { email, locale: 'en' }, context: SAMPLE_TEMPLATE_CONTEXTS[template] });
      await t.mail.waitForMailTo(email, 15_000);
      const status = async () => ((await held[1].query(`SELECT status FROM notifications WHERE to_email = $1`, [email])) as { status: string }[])[0].status;
      await waitUntil(async () => (await status()) === 'sent');
    } finally {
      await releaseAll(held);
    }
  }, 30_000);

  it('answers requests while every connection of the worker pool is taken, and sends once they are free', async () => {
    const held = await holdAll(workerDataSource, 2);
    const email = uniqueEmail('pool');
    try {
      await t.http.get('/health/ready').expect(200);
      await t.http.post('/api/v1/auth/register').send({ email, password: PASSWORD, fullName: 'Li Mei', locale: 'en' }).expect(201);
      await sleep(1000);
      expect(t.mail.to(email)).toHaveLength(0); // the relay and the senders wait for the worker's connections
      const [{ pending }] = (await t.dataSource.query(`SELECT count(*)::int AS pending FROM notifications WHERE to_email = $1 AND status = 'pending'`, [email])) as { pending: number }[];
      expect(pending).toBeGreaterThan(0);
    } finally {
      await releaseAll(held);
    }
    await t.mail.waitForMailTo(email, 15_000);
  }, 30_000);

  it('names its connections apart in pg_stat_activity, so an operator can tell requests, email work and the readiness probe apart', async () => {
    await workerDataSource.query('SELECT 1');
    await t.http.get('/health/ready').expect(200);
    const names = (await t.dataSource.query(
      `SELECT DISTINCT application_name AS name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'sprout%' ORDER BY 1`,
    )) as { name: string }[];
    expect(names.map((n) => n.name)).toEqual(['sprout', 'sprout-probe', 'sprout-worker']);
  });
});
