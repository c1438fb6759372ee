/** 4. Outbox → Bull → SMTP: K events delivered by a worker process to a local sink, against raw Bull no-op jobs. */
import { bracket } from '../floors/bracket';
import { judgeSinceAgainst } from '../floors/floors';
import { bullNoopFloor } from '../floors/bull-noop';
import { processCpuSeconds, sampleLoad } from '../lib/machine';
import Redis from 'ioredis';
import { ROOT, startService, waitForHttp } from '../lib/service';
import { SmtpSink } from '../lib/smtp-sink';
import { ceilingNote, Ctx, FLOOR_NAMES, withCpu } from './context';
import { join } from 'node:path';

/** The email processor's concurrency: the default of NOTIFY_CONCURRENCY (src/config/env.schema.ts), which the bench worker uses. */
export const EMAIL_CONCURRENCY = 16;

export async function notifyScenario(ctx: Ctx): Promise<void> {
  const K = ctx.opts.notifyEvents;
  const floorLoad = sampleLoad();
  const floor = await bullNoopFloor(ctx.redisUrl, `${ctx.queuePrefix}-floor`, K, EMAIL_CONCURRENCY);
  const floorAfter = sampleLoad();
  ctx.floors.bullNoop = floor;
  ctx.log(`  Bull no-op floor: ${floor.rate.toFixed(0)} jobs/s (${K} jobs, concurrency ${EMAIL_CONCURRENCY})`);

  // Leftovers of an earlier, interrupted run: its bench rows and queued jobs would compete with this one.
  await ctx.pool.query(`DELETE FROM notifications WHERE to_email LIKE 'bench+%' AND status <> 'sent'`);
  await clearQueue(ctx.redisUrl, ctx.queuePrefix);

  const sink = new SmtpSink();
  const smtpPort = await sink.start();
  const port = ctx.opts.port + 1;
  const profiling = ctx.opts.profile
    ? ['--cpu-prof', `--cpu-prof-dir=${ctx.resultsDir}`, '--cpu-prof-name=worker.cpuprofile', '-r', join(ROOT, 'bench', 'lib', 'cpu-profile-preload.js')]
    : [];
  // Worker n listens on port + n (health only); the first keeps the old log and profile names.
  const workers = Array.from({ length: ctx.opts.notifyWorkers }, (_, n) => {
    const name = n ? `worker${n + 1}` : 'worker';
    const nodeArgs = profiling.map((arg) => arg.replace('worker.cpuprofile', `${name}.cpuprofile`));
    return startService(ctx.serviceEnv('worker', port + n, { SMTP_URL: `smtp://127.0.0.1:${smtpPort}` }), join(ctx.resultsDir, `${name}.log`), nodeArgs);
  });
  const workersCpu = () => workers.reduce((sum, w) => sum + (processCpuSeconds(w.pid) ?? 0), 0);
  try {
    await Promise.all(workers.map((w, n) => waitForHttp(`http://127.0.0.1:${port + n}/health/ready`, w, 60_000)));
    const prefix = `bench+${ctx.runId}-`;
    const before = sampleLoad();
    const workerCpuBefore = workersCpu();
    const started = performance.now();
    const deadline = Date.now() + Math.max(60_000, K * 40);
    // The worker processes are counted on their own below; withCpu counts PostgreSQL and this harness (the sink).
    const { cpu } = await withCpu(
      ctx,
      async () => {
        await ctx.pool.query(
          `INSERT INTO notifications (event, template, to_email, locale, context)
           SELECT 'application.submitted', 'application-submitted', $1 || k || '@bench.sprout.test', CASE WHEN k % 10 = 0 THEN 'en' ELSE 'zh-CN' END,
                  jsonb_build_object('fullName', '李梅', 'reference', 'SPR-2026-' || lpad(k::text, 6, '0'),
                                     'applicationUrl', 'http://localhost:3000/applications/' || gen_random_uuid(), 'submittedAt', now())
             FROM generate_series(1, $2::int) k`,
          [prefix, K],
        );
        while (sink.count(prefix).unique < K && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      },
      0,
    );
    const lastAt = sink.lastAt;
    const workerCpu = workersCpu() - workerCpuBefore;
    await new Promise((resolve) => setTimeout(resolve, ctx.opts.smoke ? 1000 : 3000)); // late duplicates would show now
    const after = sampleLoad();
    const { unique, duplicates } = sink.count(prefix);
    const seconds = (lastAt - started) / 1000;
    const rate = unique / seconds;
    const { rows } = await ctx.pool.query<{ status: string; n: string }>(`SELECT status, count(*)::text AS n FROM notifications WHERE to_email LIKE $1 GROUP BY status`, [`${prefix}%`]);
    const statuses = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    const perEmail = (s: number) => (unique ? ((1000 * s) / unique).toFixed(2) : 'n/a');
    const cpuNote = `CPU per email: worker${workers.length > 1 ? `s (${workers.length})` : ''} ${perEmail(workerCpu)} ms, PostgreSQL ${perEmail(cpu.postgresSeconds)} ms, harness (SMTP sink) ${perEmail(cpu.harnessSeconds)} ms${ceilingNote({ ...cpu, apiSeconds: workerCpu }, unique)}`;
    ctx.details.notify = { events: K, workers: workers.length, delivered: unique, duplicates, seconds, rate, statuses, floor, workerCpuSeconds: workerCpu, postgresCpuSeconds: cpu.postgresSeconds, harnessCpuSeconds: cpu.harnessSeconds };
    ctx.log(`  notify: ${unique}/${K} delivered by ${workers.length} worker process(es) in ${seconds.toFixed(1)} s (${rate.toFixed(0)}/s), ${duplicates} duplicates; ${cpuNote}; rows ${JSON.stringify(statuses)}`);
    const load = `L1 ${before.load1.toFixed(2)} · ${after.busyPercent === null ? '?' : Math.round(after.busyPercent)}% busy`;
    // The floor again, right after the delivery: judged against the mean of the two (bracket.ts).
    const floorAgain = await bullNoopFloor(ctx.redisUrl, `${ctx.queuePrefix}-floor`, K, EMAIL_CONCURRENCY);
    const around = bracket(floor.rate, floorAgain.rate);
    ctx.log(`  Bull no-op floor again: ${floorAgain.rate.toFixed(0)} jobs/s (${Math.round(around.drift * 100)}% from the first)`);
    const firstRow = ctx.rows.length;
    ctx.rows.push(
      {
        id: '4a', scenario: `notifications: ${K.toLocaleString('en-US')} events → SMTP sink`, metric: 'delivery rate', figure: rate, unit: 'emails/s',
        floorName: FLOOR_NAMES.bullNoop, floor: floor.rate, target: { kind: 'minRatio', value: 0.25 }, load,
        note: `${workers.length} worker process(es) at concurrency ${EMAIL_CONCURRENCY} each, the floor one process; ${cpuNote}; the floor before it measured under L1 ${floorLoad.load1.toFixed(2)} · ${Math.round(floorAfter.busyPercent ?? 0)}% busy; rows ${JSON.stringify(statuses)}`,
      },
      { id: '4b', scenario: 'notifications', metric: `lost (not delivered within ${Math.round(Math.max(60_000, K * 40) / 1000)} s)`, figure: K - unique, unit: '', floorName: null, floor: null, target: { kind: 'max', value: 1, unit: '' }, load },
      { id: '4c', scenario: 'notifications', metric: 'duplicated', figure: duplicates, unit: '', floorName: null, floor: null, target: { kind: 'max', value: 1, unit: '' }, load },
    );
    judgeSinceAgainst(ctx, firstRow, FLOOR_NAMES.bullNoop, around, 'jobs/s', null);
  } finally {
    if (ctx.opts.profile) {
      for (const w of workers) w.child.kill('SIGUSR2');
      await Promise.all(workers.map((w) => w.exited));
      ctx.log(`  CPU profile of the worker: ${join(ctx.resultsDir, 'worker.cpuprofile')}`);
    }
    await Promise.all(workers.map((w) => w.stop()));
    await sink.stop();
    // What was not delivered in time must not be re-driven by the next process started on this database.
    await ctx.pool.query(`DELETE FROM notifications WHERE to_email LIKE 'bench+%' AND status <> 'sent'`);
    await clearQueue(ctx.redisUrl, ctx.queuePrefix);
  }
}

/** Removes every Bull key under the bench's queue prefix. */
export async function clearQueue(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
