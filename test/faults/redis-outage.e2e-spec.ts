import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { EMAIL_QUEUE } from 'src/notifications/queue.constants';
import { signedInUser, uniqueEmail } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';
import { ThrowawayRedis } from 'test/support/throwaway-redis';
import { startThrowawayProcess } from 'test/support/throwaway-worker';
import { waitUntil } from 'test/support/wait-until';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CHANGES = 100;

/** Every Redis here is a private redis-server on a free port; the machine's shared Redis is never stopped. */
describe('Email delivery across a Redis outage (e2e, fault injection)', () => {
  const redis = new ThrowawayRedis();
  let t: TestApp;

  beforeAll(async () => {
    await redis.start();
    // A roomy SMTP timeout: on a starved machine a 2 s timeout can fire after the sink accepted, and the retry is then
    // a genuine duplicate (the window the guarantee leaves open), not what this test is about.
    t = await startTestApp({ REDIS_URL: redis.url, SMTP_TIMEOUT_MS: '10000' });
    // This worker's database carries rows from earlier test files; only this test's emails are counted below.
    await t.reset();
  });
  afterAll(async () => {
    await t?.close();
    await redis.stop();
  });

  it(`keeps the API working while Redis is down, then delivers all ${CHANGES} emails exactly once`, async () => {
    const admin = await signedInUser(t, 'admin');
    const queue = t.app.get<Queue>(getQueueToken(EMAIL_QUEUE));
    await redis.stop();
    for (let i = 0; i < 100 && queue.client.status === 'ready'; i++) await sleep(20);
    expect(queue.client.status).not.toBe('ready');

    const emails = Array.from({ length: CHANGES }, (_, i) => uniqueEmail(`outage${i}`));
    const started = Date.now();
    for (let i = 0; i < emails.length; i += 10) {
      const batch = await Promise.all(
        emails.slice(i, i + 10).map((email) => t.http.post('/api/v1/users').set(admin.auth).send({ email, fullName: `Staff ${email}`, role: 'reviewer' })),
      );
      expect(batch.map((r) => r.status)).toEqual(batch.map(() => 201));
    }
    const apiMs = Date.now() - started;
    await t.http.get('/health/ready').expect(503);
    await sleep(1000); // a few relay passes fail meanwhile
    expect(t.mail.received.filter((m) => emails.some((email) => m.to.includes(email)))).toHaveLength(0);
    const statusCounts = () =>
      t.dataSource.query(`SELECT status, count(*)::int AS n FROM notifications WHERE to_email = ANY($1) GROUP BY status`, [emails]);
    expect(await statusCounts()).toEqual([{ status: 'pending', n: CHANGES }]);

    await redis.start(); // same port, empty: like a Redis restarted without persistence
    const back = Date.now();
    await waitUntil(() => emails.every((email) => t.mail.to(email).length > 0), 45_000);
    const drainMs = Date.now() - back;
    await sleep(1500);
    const twice = emails.filter((email) => t.mail.to(email).length !== 1);
    const rows = twice.length ? await t.dataSource.query(`SELECT to_email, status, attempts, last_error FROM notifications WHERE to_email = ANY($1)`, [twice]) : [];
    expect({ twice, rows }).toEqual({ twice: [], rows: [] });
    // Counted by their addresses: the sink may also get an email an earlier test file left queued.
    expect(t.mail.received.filter((m) => emails.some((email) => m.to.includes(email)))).toHaveLength(CHANGES);
    expect(emails.flatMap((email) => t.mail.attemptsTo(email))).toHaveLength(CHANGES);
    expect(await statusCounts()).toEqual([{ status: 'sent', n: CHANGES }]);
    await t.http.get('/health/ready').expect(200);
    process.stdout.write(`redis outage: ${CHANGES} API calls in ${apiMs} ms with Redis down; all delivered ${drainMs} ms after it returned\n`);
  }, 90_000);

  it('re-drives emails whose jobs a restarted Redis lost as soon as it is back, not after OUTBOX_STUCK_AFTER_SECONDS', async () => {
    t.mail.clear();
    const admin = await signedInUser(t, 'admin');
    const queue = t.app.get<Queue>(getQueueToken(EMAIL_QUEUE));
    await queue.pause(true); // this worker stops taking jobs: they wait in Redis, their rows `queued`
    const emails = Array.from({ length: 10 }, (_, i) => uniqueEmail(`lost${i}`));
    for (const email of emails) await t.http.post('/api/v1/users').set(admin.auth).send({ email, fullName: 'Staff', role: 'reviewer' }).expect(201);
    const queuedCount = async () =>
      ((await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE status = 'queued' AND to_email = ANY($1)`, [emails])) as { n: number }[])[0].n;
    for (let i = 0; i < 100 && (await queuedCount()) < emails.length; i++) await sleep(50);
    expect(await queuedCount()).toBe(emails.length);
    expect(await queue.getWaitingCount()).toBeGreaterThanOrEqual(emails.length);

    await redis.restart(); // the waiting jobs are gone
    await queue.resume(true);
    const back = Date.now();
    await t.mail.waitForCount(emails.length, 20_000);
    expect(Date.now() - back).toBeLessThan(t.config.env.OUTBOX_STUCK_AFTER_SECONDS * 1000);
    await sleep(1000);
    for (const email of emails) expect(t.mail.to(email)).toHaveLength(1);
    // The digest's schedule, lost with the data, is back too.
    const digests = (await queue.getRepeatableJobs()).filter((r) => r.name === 'reviewer-digest');
    expect(digests).toHaveLength(1);
  }, 60_000);
});

// A host restarted: the worker and a Redis without persistence come back together, and the worker's rows are `queued`.
describe('A worker that starts beside a Redis restarted empty (e2e, fault injection)', () => {
  const redis = new ThrowawayRedis();
  let api: TestApp;

  beforeAll(async () => {
    await redis.start();
    api = await startTestApp({ APP_ROLE: 'api', REDIS_URL: redis.url });
    await api.reset();
  });
  afterAll(async () => {
    await api?.close();
    await redis.stop();
  });

  it('re-drives the rows left in flight as soon as it starts, not after OUTBOX_STUCK_AFTER_SECONDS', async () => {
    const worker = { APP_ROLE: 'worker', REDIS_URL: redis.url, SMTP_URL: api.mail.url };
    const before = await startTestApp(worker);
    await before.app.get<Queue>(getQueueToken(EMAIL_QUEUE)).pause(true); // relays, takes no job
    const admin = await signedInUser(api, 'admin');
    const emails = Array.from({ length: 5 }, (_, i) => uniqueEmail(`restart${i}`));
    for (const email of emails) await api.http.post('/api/v1/users').set(admin.auth).send({ email, fullName: 'Staff', role: 'reviewer' }).expect(201);
    const queued = async () =>
      ((await api.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE status = 'queued' AND to_email = ANY($1)`, [emails])) as { n: number }[])[0].n;
    await waitUntil(async () => (await queued()) === emails.length);
    await before.close();
    await redis.restart(); // the jobs are gone

    const after = await startTestApp(worker);
    try {
      await api.mail.waitForCount(emails.length, 20_000); // the sweeper alone would wait 10 minutes
      for (const email of emails) expect(api.mail.to(email)).toHaveLength(1);
    } finally {
      await after.close();
    }
  }, 60_000);
});

// In its own process, as main.ts would run it: a refused start-up leaves no half-built app in the test process.
describe.each([
  {
    redis: 'a Redis that may evict queued jobs',
    args: ['--maxmemory-policy', 'allkeys-lru'],
    refusal: /maxmemory-policy is "allkeys-lru".*noeviction.*REDIS_ALLOW_EVICTION/s,
  },
  // As managed services do; it crashed on the refused command.
  { redis: 'a Redis that refuses CONFIG', args: ['--rename-command', 'CONFIG', ''], refusal: /refuses CONFIG.*noeviction.*REDIS_ALLOW_EVICTION=true/s },
])('Start-up on $redis (e2e)', ({ args, refusal }) => {
  const redis = new ThrowawayRedis(args);
  beforeAll(async () => {
    await redis.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('refuses to start without REDIS_ALLOW_EVICTION, saying why and what to set', async () => {
    const started = startThrowawayProcess({ REDIS_URL: redis.url, APP_ROLE: 'worker', LOG_LEVEL: 'silent' }, 100_000);
    await expect(started).rejects.toThrow(refusal);
  }, 110_000);

  it('starts with REDIS_ALLOW_EVICTION=true', async () => {
    const app = await startTestApp({ REDIS_URL: redis.url, REDIS_ALLOW_EVICTION: 'true' });
    await app.http.get('/health/ready').expect(200);
    await app.close();
  });
});
