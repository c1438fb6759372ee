/**
 * `npm run bench -- [--scale 1] [--smoke] …` — seeds a dedicated database, measures the machine's floors, drives the
 * built service and writes bench/results/. See BENCHMARKS.md for the method.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { BenchOptions, parseArgs, ScenarioKey } from './lib/args';
import { sampleLoad } from './lib/machine';
import { judge, markdownTable, summarize, textTable } from './lib/report';
import { ROOT, startService, stopAll, waitForHttp } from './lib/service';
import { measureBareServers, measuredAround, measurePgbench, pgbenchDatabase } from './floors/floors';
import { Ctx, Role } from './scenarios/context';
import { coldStartScenario } from './scenarios/coldstart';
import { approveScenario, queueScenario, readScenario, reconcileScenario, writeScenario } from './scenarios/http';
import { clearQueue, notifyScenario } from './scenarios/notify';
import { GENERATOR_VERSION } from './seed/plan';
import { databaseUrl, dropDatabase, migrate, readMeta, recreateDatabase, SECOND_APPROVAL_THRESHOLD, seed, SeedMeta, verifySeed } from './seed/seed';

const run = promisify(execFile);
/** What to undo if the run is interrupted (smoke.sh's timeout sends SIGTERM). */
const onAbort: (() => Promise<void>)[] = [];
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping\n`);
    void (async () => {
      await stopAll();
      for (const undo of onAbort) await undo().catch(() => undefined);
      process.exit(130);
    })();
  });
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const runId = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const resultsDir = join(ROOT, 'bench', 'results', `${runId}-scale${opts.scale}${opts.smoke ? '-smoke' : ''}`);
  mkdirSync(resultsDir, { recursive: true });
  const lines: string[] = [];
  const log = (message: string) => {
    const line = `[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${message}`;
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  const t0 = performance.now();
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dbUrl = databaseUrl(adminUrl, opts.database);
  const queuePrefix = opts.database.replace(/_/g, '-');
  log(`Sprout bench: scale ${opts.scale}${opts.smoke ? ' (smoke)' : ''}, database ${opts.database}, results in ${resultsDir}`);
  const startLoad = sampleLoad();
  log(`machine: load ${startLoad.load1} / ${startLoad.load5} (1/5 min) on ${require('node:os').cpus().length} cores`);
  if (Object.keys(opts.serviceEnv).length) log(`service settings for this run: ${Object.entries(opts.serviceEnv).map(([k, v]) => `${k}=${v}`).join(' ')}`);

  if (!opts.seedOnly && !opts.noBuild) log('building the service (nest build → var/bench-dist)');
  if (!opts.seedOnly && !opts.noBuild) await run('npx', ['nest', 'build', '-p', 'bench/tsconfig.service.json'], { cwd: ROOT, maxBuffer: 32 << 20 }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`the service does not build:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });

  if (opts.cleanup) {
    onAbort.push(() => dropDatabase(adminUrl, opts.database));
    onAbort.push(() => dropDatabase(adminUrl, `${opts.database}_pgbench`));
  }
  const meta = await prepareDatabase(opts, adminUrl, dbUrl, log);
  if (opts.seedOnly) {
    log('seed only: done');
    return 0;
  }
  const pool = new Pool({ connectionString: dbUrl, max: 4, application_name: 'sprout-bench' });
  const ctx: Ctx = {
    opts,
    plan: meta.plan,
    meta,
    adminUrl,
    dbUrl,
    redisUrl,
    queuePrefix,
    runId,
    resultsDir,
    pool,
    floors: {},
    rows: [],
    details: { seed: { seconds: meta.seedSeconds, steps: meta.steps, seededAt: meta.seededAt } },
    log,
    serviceEnv: (role, port, extra = {}) => serviceEnv(role, port, { dbUrl, redisUrl, queuePrefix, meta, LOG_LEVEL: opts.logLevel, ...opts.serviceEnv, ...extra }),
    api: null,
    apiBaseUrl: `http://127.0.0.1:${opts.port}`,
    routes: new Set(),
  };

  const attempt = async (name: string, ids: string[], work: () => Promise<void>) => {
    log(`${name}`);
    try {
      await work();
    } catch (error) {
      log(`  ${name} FAILED: ${(error as Error).stack ?? error}`);
      ctx.rows.push({ id: ids[0], scenario: name, metric: '—', figure: null, unit: '', floorName: null, floor: null, target: { kind: 'max', value: 0, unit: '' }, load: '—', note: `harness error: ${(error as Error).message.split('\n')[0]}`, errored: true });
    }
  };
  const wants = (key: ScenarioKey) => opts.only.includes(key);

  try {
    if (!opts.skipFloors) {
      await attempt('floor: pgbench', ['F1'], () => measurePgbench(ctx));
      await attempt('floor: bare HTTP routes', ['F3'], () => measureBareServers(ctx));
    }

    if (['read', 'queue', 'write', 'approve', 'reconcile'].some((k) => wants(k as ScenarioKey))) {
      await attempt('starting the api process', ['api'], async () => {
        const profiling = opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${resultsDir}`, '--cpu-prof-name=api.cpuprofile', '-r', join(ROOT, 'bench', 'lib', 'cpu-profile-preload.js')] : [];
        ctx.api = startService(ctx.serviceEnv('api', opts.port), join(resultsDir, 'api.log'), profiling);
        await waitForHttp(`${ctx.apiBaseUrl}/health/ready`, ctx.api, 60_000);
        const doc = (await (await fetch(`${ctx.apiBaseUrl}/docs-json`)).json()) as { paths: Record<string, Record<string, unknown>> };
        for (const [path, methods] of Object.entries(doc.paths)) for (const method of Object.keys(methods)) ctx.routes.add(`${method.toUpperCase()} ${path}`);
      });
      if (ctx.api) {
        if (wants('read')) await attempt('1. GET /applications/:id as its owner', ['1a'], () => measuredAround(ctx, 'selectOnly', () => readScenario(ctx)));
        if (wants('queue')) await attempt('2. reviewer queue deep page', ['2a'], () => queueScenario(ctx));
        if (wants('write')) await attempt('3. create + submit', ['3a'], () => measuredAround(ctx, 'tpcb', () => writeScenario(ctx)));
        if (wants('approve')) await attempt('3. approve', ['3d'], () => measuredAround(ctx, 'tpcb', () => approveScenario(ctx)));
        if (wants('reconcile')) await attempt('5. reconciliation import', ['5a'], () => reconcileScenario(ctx));
        if (opts.profile) {
          ctx.api.child.kill('SIGUSR2');
          await ctx.api.exited;
          log(`  CPU profile of the api process: ${join(resultsDir, 'api.cpuprofile')} (npx ts-node bench/lib/cpu-profile.ts <file> lists the hot spots)`);
        }
        await ctx.api.stop();
        ctx.api = null;
      }
    }
    if (wants('notify')) await attempt('4. notifications', ['4a'], () => notifyScenario(ctx));
    if (wants('coldstart')) await attempt('6. cold start', ['6a'], () => coldStartScenario(ctx));
    await attempt('ledger and references still consistent after the run', ['V'], async () => {
      const checks = await verifySeed(dbUrl);
      const broken = checks.filter((c) => c.violations > 0);
      ctx.details.postRunChecks = checks;
      log(`  ${checks.length - broken.length}/${checks.length} invariants hold${broken.length ? `; BROKEN: ${broken.map((c) => `${c.name} (${c.violations})`).join('; ')}` : ''}`);
      ctx.rows.push({ id: 'V', scenario: 'invariants after the run (ledger, keys, four-eyes)', metric: 'violations', figure: broken.reduce((a, c) => a + c.violations, 0), unit: '', floorName: null, floor: null, target: { kind: 'max', value: 1, unit: '' }, load: '—', note: broken.length ? broken.map((c) => c.name).join('; ') : undefined });
    });
  } finally {
    await stopAll();
    await pool.end();
  }

  const judged = ctx.rows.map(judge);
  const counts = summarize(judged);
  const endLoad = sampleLoad();
  const report = {
    runId,
    options: opts,
    machine: { cores: require('node:os').cpus().length, cpu: require('node:os').cpus()[0]?.model, memoryGiB: Math.round(require('node:os').totalmem() / 2 ** 30), loadAtStart: startLoad, loadAtEnd: endLoad },
    plan: meta.plan,
    floors: ctx.floors,
    rows: judged,
    details: ctx.details,
    verdicts: counts,
    seconds: (performance.now() - t0) / 1000,
  };
  const explain = (ctx.details.queueExplain as { text?: string } | undefined)?.text;
  const markdown = [
    `# Sprout bench ${runId} — scale ${opts.scale}${opts.smoke ? ' (smoke: targets not enforced)' : ''}`,
    '',
    `${meta.plan.applications.toLocaleString('en-US')} applications, ${meta.plan.hospitals} hospitals; ${report.machine.cores} cores (${report.machine.cpu}); load at start ${startLoad.load1}, at end ${endLoad.load1}.`,
    '',
    markdownTable(judged),
    explain ? `\n## EXPLAIN (ANALYZE, BUFFERS) of the review queue page\n\n\`\`\`\n${explain}\n\`\`\`\n` : '',
  ].join('\n');
  writeFileSync(join(resultsDir, 'results.json'), JSON.stringify(report, null, 2));
  writeFileSync(join(resultsDir, 'results.md'), markdown);
  writeFileSync(join(resultsDir, 'bench.log'), lines.join('\n') + '\n');
  copyFileSync(join(resultsDir, 'results.json'), join(ROOT, 'bench', 'results', opts.smoke ? 'latest-smoke.json' : 'latest.json'));
  copyFileSync(join(resultsDir, 'results.md'), join(ROOT, 'bench', 'results', opts.smoke ? 'latest-smoke.md' : 'latest.md'));
  process.stdout.write(`\n${textTable(judged)}\n`);
  if (explain) process.stdout.write(`review queue plan:\n${explain}\n\n`);
  log(`done: ${counts.PASS} pass, ${counts.MISS} miss, ${counts.INFO} info, ${counts.ERROR} error — ${resultsDir}`);

  if (opts.cleanup) await cleanup(ctx);
  // Harness broken = a scenario threw. A missed target is a finding, not a failure.
  return judged.some((r) => r.errored) ? 1 : 0;
}

async function prepareDatabase(opts: BenchOptions, adminUrl: string, dbUrl: string, log: (m: string) => void): Promise<SeedMeta> {
  if (opts.reuse) {
    const meta = await readMeta(dbUrl);
    if (meta && meta.generatorVersion === GENERATOR_VERSION && meta.scale === opts.scale) {
      const ran = opts.skipMigrations ? [] : await migrate(dbUrl);
      log(`reusing ${opts.database} seeded ${meta.seededAt}${ran.length ? `; applied ${ran.join(', ')}` : ''}${opts.skipMigrations ? ' (pending migrations NOT applied)' : ''}`);
      return meta;
    }
    log(`cannot reuse ${opts.database} (${meta ? `seeded at scale ${meta.scale}, generator v${meta.generatorVersion}` : 'not seeded'}): seeding again`);
  }
  await recreateDatabase(adminUrl, opts.database, true);
  const ran = await migrate(dbUrl);
  log(`created ${opts.database}, applied ${ran.length} migrations`);
  const meta = await seed(dbUrl, opts.scale, log);
  log(`seeded in ${meta.seedSeconds.toFixed(0)} s; verifying`);
  const checks = await verifySeed(dbUrl);
  const broken = checks.filter((c) => c.violations > 0);
  if (broken.length) throw new Error(`the seed breaks invariants: ${broken.map((c) => `${c.name} (${c.violations})`).join('; ')}`);
  log(`  all ${checks.length} invariants hold`);
  return meta;
}

function serviceEnv(
  role: Role,
  port: number,
  o: { dbUrl: string; redisUrl: string; queuePrefix: string; meta: SeedMeta } & Record<string, unknown>,
): Record<string, string> {
  const { dbUrl, redisUrl, queuePrefix, meta, ...extra } = o;
  return {
    NODE_ENV: 'production',
    APP_ROLE: role,
    PORT: String(port),
    HOST: '127.0.0.1',
    APP_PUBLIC_URL: 'http://localhost:3000',
    MAIL_FROM: 'Sprout bench <bench@localhost>',
    FUND_CONTACT: 'bench fund office, bench@localhost',
    DATABASE_URL: dbUrl,
    DATABASE_AUTO_CREATE: 'false',
    MIGRATIONS_RUN: 'false',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: queuePrefix,
    JWT_SECRET: meta.secrets.JWT_SECRET,
    DATA_ENCRYPTION_KEY: meta.secrets.DATA_ENCRYPTION_KEY,
    DATA_HASH_KEY: meta.secrets.DATA_HASH_KEY,
    SMTP_URL: 'smtp://127.0.0.1:2',
    LOG_LEVEL: 'info',
    UPLOAD_DIR: 'var/bench-uploads',
    SECOND_APPROVAL_THRESHOLD: String(SECOND_APPROVAL_THRESHOLD),
    // A realistic 200,000-entry camt.053 is ~130 MiB; the 50 MiB default would refuse it (see BENCHMARKS.md).
    STATEMENT_MAX_BYTES: String(512 * 1024 * 1024),
    // The write scenario starts writeRequests drafts among at most 200 families (20 each at the default 4,000).
    MAX_OPEN_DRAFTS_PER_ACCOUNT: '1000000',
    ...(extra as Record<string, string>),
  };
}

async function cleanup(ctx: Ctx): Promise<void> {
  ctx.log('cleaning up: bench databases and queue keys');
  await dropDatabase(ctx.adminUrl, ctx.opts.database).catch((e) => ctx.log(`  ${e}`));
  await dropDatabase(ctx.adminUrl, pgbenchDatabase(ctx)).catch((e) => ctx.log(`  ${e}`));
  for (const prefix of [ctx.queuePrefix, `${ctx.queuePrefix}-floor`]) await clearQueue(ctx.redisUrl, prefix);
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    await stopAll();
    process.exit(2);
  },
);
