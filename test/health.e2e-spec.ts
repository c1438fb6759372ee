import Redis from 'ioredis';
import { AddressInfo, createServer, Socket } from 'node:net';
import { QueryRunner } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { fetchOpenApi, fillPath, operationsOf, withRequiredQuery } from 'test/support/openapi-routes';
import { startTestApp, TestApp } from 'test/support/test-app';
import { freePort, ThrowawayRedis } from 'test/support/throwaway-redis';
import { waitUntil } from 'test/support/wait-until';
import { AppConfig, loadConfig } from 'src/config/app-config';
import { DatabaseProbeService } from 'src/health/database-probe.service';

describe('Health and documentation (e2e)', () => {
  describe('with every dependency up', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(async () => {
      await t.close();
    });

    it('is live and ready', async () => {
      await t.http.get('/health/live').expect(200, { status: 'ok' });
      const ready = await t.http.get('/health/ready').expect(200);
      expect(ready.body).toEqual({ status: 'ok', checks: { database: 'up', redis: 'up' } });
    });

    // DESIGN: the worker serves no HTTP but health. It has no AuthModule (no guard), so any route it served would be
    // open to whoever reaches its port: the audit trail's verification was, until its controller became api-only.
    it('a worker answers health only: every route the api documents is 404 there, without a token', async () => {
      const worker = await startTestApp({ APP_ROLE: 'worker' });
      try {
        const operations = operationsOf(await fetchOpenApi(t));
        expect(operations.length).toBeGreaterThan(50);
        const served: string[] = [];
        for (const op of operations.filter((o) => !o.path.startsWith('/health/'))) {
          const url = withRequiredQuery(op, fillPath(op.path, {}, randomUUID()), randomUUID());
          const res = await worker.http[op.method](url).send({});
          if (res.status !== 404) served.push(`${op.method.toUpperCase()} ${op.path}: ${res.status}`);
        }
        expect(served).toEqual([]);
        await worker.http.get('/health/live').expect(200);
        await worker.http.get('/docs-json').expect(404);
      } finally {
        await worker.close();
      }
    });

    // Every pooled connection busy (long imports, a burst of approvals) is not the database being down: the probe
    // used to queue behind them and time out, and readiness said "database down".
    it('stays ready while every pooled connection is busy', async () => {
      const held: QueryRunner[] = [];
      try {
        for (let i = 0; i < t.config.env.DATABASE_POOL_SIZE; i++) {
          const runner = t.dataSource.createQueryRunner();
          await runner.startTransaction();
          held.push(runner);
        }
        const starved = await Promise.race([t.dataSource.query('SELECT 1').then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
        expect(starved).toBe('waiting'); // the pool really is exhausted
        const ready = await t.http.get('/health/ready');
        expect({ status: ready.status, body: ready.body }).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'up', redis: 'up' } } });
      } finally {
        for (const runner of held) {
          await runner.rollbackTransaction();
          await runner.release();
        }
      }
    });

    it("opens the probe's connection again after it was cut", async () => {
      await t.http.get('/health/ready').expect(200);
      const probes = () => t.dataSource.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'sprout-probe' AND datname = current_database()`) as Promise<{ pid: number }[]>;
      const [before] = await probes();
      expect(before).toBeDefined();
      await t.dataSource.query('SELECT pg_terminate_backend($1)', [before.pid]);
      await waitUntil(async () => (await t.http.get('/health/ready')).status === 200 && (await probes()).some((p) => p.pid !== before.pid), 5_000);
      expect(await probes()).toHaveLength(1);
    });

    it('serves Swagger UI and an OpenAPI document that states auth and errors for every operation', async () => {
      await t.http.get('/docs').expect((res) => expect([200, 301, 302]).toContain(res.status));
      const doc = (await t.http.get('/docs-json').expect(200)).body;
      expect(doc.openapi).toMatch(/^3\./);
      const operations = Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown>; 'x-access'?: unknown }>>)
        .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
      expect(operations.length).toBeGreaterThan(10);
      for (const { path, method, op } of operations) {
        expect({ path, method, access: op['x-access'] }).toEqual({ path, method, access: expect.anything() });
        const isPublic = (op['x-access'] as { public?: boolean }).public === true;
        if (!isPublic) {
          expect({ path, method, security: op.security }).toEqual({ path, method, security: [{ bearer: [] }] });
          expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
        }
      }
      expect(doc.paths['/api/v1/auth/login']).toBeDefined();
      expect(doc.paths['/health/ready']).toBeDefined();
    });

    it('sets security headers and echoes a request id', async () => {
      const res = await t.http.get('/health/live').set('X-Request-Id', 'trace-123');
      expect(res.headers['x-request-id']).toBe('trace-123');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'self';/);
      const notFound = await t.http.get('/api/v1/no-such-route');
      expect(notFound.status).toBe(404);
      expect(notFound.headers['x-content-type-options']).toBe('nosniff');
      expect(notFound.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      const generated = await t.http.get('/health/live').set('X-Request-Id', 'bad id with spaces');
      expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers unknown routes and malformed JSON with problem+json', async () => {
      const missing = await t.http.get('/api/v1/nothing-here');
      expect(missing.status).toBe(404);
      expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
      const broken = await t.http.post('/api/v1/auth/login').set('Content-Type', 'application/json').send('{"email":');
      expect(broken.status).toBe(400);
      expect(broken.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(JSON.stringify(broken.body)).not.toMatch(/at .*\.js|node_modules/);
    });
  });

  describe('with Redis unreachable', () => {
    // A private redis-server's port with nothing listening yet. Redis comes up just before the app closes: its
    // reconnection makes the digest scheduler write to Redis while the app shuts down — that once let a cut-off
    // command reject unhandled inside Bull (EPIPE / ECONNREFUSED after the tests, "Test suite failed to run"), and so
    // did Bull's naming of the worker's connection ("Connection is closed.", one run in ~10; see queue-handlers.ts).
    const redis = new ThrowawayRedis();
    let t: TestApp;
    beforeAll(async () => {
      redis.port = await freePort();
      t = await startTestApp({ REDIS_URL: redis.url });
    });
    afterAll(async () => {
      await redis.start();
      await t.close();
      await redis.stop();
    });

    it('starts, and reports not ready (503 problem+json) while staying live', async () => {
      await t.http.get('/health/live').expect(200);
      const ready = await t.http.get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(ready.body.checks).toEqual({ database: 'up', redis: 'down' });
      expect(ready.headers['retry-after']).toBe('5');
      expect(ready.body.retryAfter).toBe(5);
    });
  });
});

describe('Health with a Redis that evicts keys, reached only after start-up', () => {
  // Start-up refuses such a Redis; one unreachable then was never checked, and Bull's jobs could be evicted.
  const redis = new ThrowawayRedis(['--maxmemory-policy', 'allkeys-lru']);
  let t: TestApp;
  beforeAll(async () => {
    redis.port = await freePort();
    t = await startTestApp({ REDIS_URL: redis.url });
    await redis.start();
  });
  afterAll(async () => {
    await t.close();
    await redis.stop();
  });

  it('reports not ready, naming the policy, until the policy is set right', async () => {
    let ready = await t.http.get('/health/ready');
    // Redis answers ping now (the probe reconnects on its own schedule); readiness still says it is down.
    const answers = new Redis(redis.url);
    expect(await answers.ping()).toBe('PONG');
    answers.disconnect();
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      ready = await t.http.get('/health/ready');
      if (ready.status === 503) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 2_500)); // past the probe's reconnection: Redis answers it
    ready = await t.http.get('/health/ready');
    expect([ready.status, ready.body.checks]).toEqual([503, { database: 'up', redis: 'down' }]);
    expect(ready.body.detail).toBe('Not ready: redis unavailable.'); // the policy is for the log, not for anyone asking
    const admin = new Redis(redis.url);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    admin.disconnect();
    const fixed = await t.http.get('/health/ready');
    expect([fixed.status, fixed.body.checks]).toEqual([200, { database: 'up', redis: 'up' }]);
  });
});

describe('Database probe', () => {
  const probeOf = (port: number) => new DatabaseProbeService({ env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/sprout` } } as AppConfig);

  it('says down at once when nothing listens at the address', async () => {
    const probe = probeOf(await freePort());
    expect(await probe.ping(1000)).toBe(false);
    await probe.onModuleDestroy();
  });

  // A server that accepts and never answers (a hung PostgreSQL, a black-holed route): the whole ping is bounded.
  it('says down within its timeout when the server accepts and never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const probe = probeOf((silent.address() as AddressInfo).port);
      const started = Date.now();
      expect(await probe.ping(500)).toBe(false);
      // Bounded (a connect and a query under one deadline), not left to hang: generous for a loaded machine.
      expect(Date.now() - started).toBeLessThan(5_000);
      await probe.onModuleDestroy();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('Configuration validation', () => {
  it('names every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', APP_ROLE: 'everything', DATABASE_URL: 'mysql://x' })).toThrow(/PORT[\s\S]*APP_ROLE|APP_ROLE[\s\S]*PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
  });

  it('requires secrets and SMTP in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET[\s\S]*DATA_ENCRYPTION_KEY[\s\S]*DATA_HASH_KEY[\s\S]*SMTP_URL/);
    // The links and sender of every email: their development defaults would mail families links to localhost.
    const secrets = { JWT_SECRET: 'x'.repeat(32), DATA_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'), DATA_HASH_KEY: Buffer.alloc(32, 2).toString('base64'), SMTP_URL: 'smtp://mail:25' };
    expect(() => loadConfig({ NODE_ENV: 'production', ...secrets })).toThrow(/FUND_CONTACT: required[\s\S]*APP_PUBLIC_URL: required[\s\S]*MAIL_FROM: required/);
    const mail = { APP_PUBLIC_URL: 'https://sprout.example.org', MAIL_FROM: 'Fund <fund@example.org>', FUND_CONTACT: '021-6438 0000' };
    expect(() => loadConfig({ NODE_ENV: 'production', ...secrets, ...mail })).not.toThrow();
    expect(() => loadConfig({ ...mail, FUND_CONTACT: 'line one\nline two' })).toThrow(/FUND_CONTACT/);
  });

  it('applies the documented defaults', () => {
    const config = loadConfig({ JWT_SECRET: 'x'.repeat(32), DATA_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'), DATA_HASH_KEY: Buffer.alloc(32, 2).toString('base64') });
    expect(config.env).toMatchObject({ PORT: 3000, APP_ROLE: 'all', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/sprout', REDIS_URL: 'redis://127.0.0.1:6379', MIGRATIONS_RUN: true });
  });
});
