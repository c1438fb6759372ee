import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Response } from 'supertest';
import { startTestApp, TestApp } from 'test/support/test-app';
import { ThrowawayPostgres } from 'test/support/throwaway-postgres';
import { ThrowawayRedis } from 'test/support/throwaway-redis';

/** Sprout on a PostgreSQL and a Redis of its own, both free to be stopped: nothing here touches the shared services. */
export type FaultStack = { pg: ThrowawayPostgres; redis: ThrowawayRedis; t: TestApp; env: Record<string, string>; close(): Promise<void> };

export async function startFaultStack(overrides: Record<string, string> = {}): Promise<FaultStack> {
  const pg = await new ThrowawayPostgres().start();
  const redis = await new ThrowawayRedis().start();
  const uploads = mkdtempSync(join(tmpdir(), 'sprout-fault-uploads-'));
  const env = {
    DATABASE_URL: pg.url('sprout'),
    DATABASE_AUTO_CREATE: 'true',
    MIGRATIONS_RUN: 'true',
    REDIS_URL: redis.url,
    UPLOAD_DIR: uploads,
    LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '100000',
    // Traffic loops start drafts as one family for minutes.
    MAX_OPEN_DRAFTS_PER_ACCOUNT: '1000000',
    ...overrides,
  };
  const t = await startTestApp(env);
  return {
    pg,
    redis,
    t,
    env,
    close: async () => {
      await t.close().catch(() => undefined);
      await redis.stop();
      await pg.destroy();
      rmSync(uploads, { recursive: true, force: true });
    },
  };
}

export type Sample = { kind: string; at: number; ms: number; status: number; problem: boolean; key?: string; body?: unknown };

/** Runs each request maker in its own loop until `stop()` says so; every answer is recorded with its time. */
export function trafficLoops(makers: Record<string, (i: number) => Promise<{ res: Response; key?: string }>>, pauseMs = 25) {
  const samples: Sample[] = [];
  let running = true;
  const t0 = Date.now();
  const loops = Object.entries(makers).map(async ([kind, make]) => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      try {
        const { res, key } = await make(i);
        samples.push({
          kind,
          at: Date.now() - t0,
          ms: performance.now() - started,
          status: res.status,
          problem: /application\/problem\+json/.test(res.headers['content-type'] ?? ''),
          key,
          body: res.body,
        });
      } catch (error) {
        samples.push({ kind, at: Date.now() - t0, ms: performance.now() - started, status: -1, problem: false, body: String(error) });
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  });
  return {
    samples,
    startedAt: t0,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
