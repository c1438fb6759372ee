/** The machine's own floors, measured in the same run: pgbench, a bare Fastify route, a bare NestJS route. */
import { join } from 'node:path';
import { Client } from 'pg';
import { runLoad } from '../lib/load';
import { startProcess, waitForHttp } from '../lib/service';
import { databaseUrl } from '../seed/seed';
import { cpuNote, Ctx, FLOOR_NAMES, measured, withCpu, withGeneratorCpu } from '../scenarios/context';
import { bracket, FloorBracket, rebase } from './bracket';
import { PgConn, pgbenchInit, pgbenchRun, pgConn } from './pgbench';

export function pgbenchDatabase(ctx: Ctx): string {
  return `${ctx.opts.database}_pgbench`;
}

/** pgbench's database on the admin server, and the admin password for pgbench's environment. */
function pgbenchTarget(ctx: Ctx): { conn: PgConn; password: string | undefined } {
  return { conn: pgConn(databaseUrl(ctx.adminUrl, pgbenchDatabase(ctx))), password: new URL(ctx.adminUrl).password || undefined };
}

export async function measurePgbench(ctx: Ctx): Promise<void> {
  const database = pgbenchDatabase(ctx);
  const admin = new Client({ connectionString: databaseUrl(ctx.adminUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  const { conn, password } = pgbenchTarget(ctx);
  // Scale 10 (1,000,000 accounts, ~150 MB): bigger than the clients' contention window, small enough to init fast.
  await pgbenchInit(conn, ctx.opts.smoke ? 1 : 10, password);
  const seconds = ctx.opts.duration;
  const tpcb = await measured(() => pgbenchRun(conn, { clients: ctx.opts.writeConnections, seconds, selectOnly: false }, password));
  const select = await measured(() => pgbenchRun(conn, { clients: ctx.opts.readConnections, seconds, selectOnly: true }, password));
  ctx.floors.pgbenchTpcb = tpcb.value;
  ctx.floors.pgbenchSelectOnly = select.value;
  ctx.log(`  pgbench TPC-B: ${tpcb.value.tps.toFixed(0)} tps @${ctx.opts.writeConnections}; select-only: ${select.value.tps.toFixed(0)} tps @${ctx.opts.readConnections}`);
  ctx.rows.push(
    { id: 'F1', scenario: 'floor: pgbench TPC-B-like', metric: `tps @${ctx.opts.writeConnections} clients`, figure: tpcb.value.tps, unit: 'tps', floorName: null, floor: null, target: { kind: 'none' }, load: tpcb.load, note: `latency avg ${tpcb.value.latencyMs} ms` },
    { id: 'F2', scenario: 'floor: pgbench select-only', metric: `tps @${ctx.opts.readConnections} clients`, figure: select.value.tps, unit: 'tps', floorName: null, floor: null, target: { kind: 'none' }, load: select.load, note: `latency avg ${select.value.latencyMs} ms` },
  );
}

const BRACKETED = {
  selectOnly: { clients: (ctx: Ctx) => ctx.opts.readConnections, runStart: (ctx: Ctx) => ctx.floors.pgbenchSelectOnly?.tps ?? null },
  tpcb: { clients: (ctx: Ctx) => ctx.opts.writeConnections, runStart: (ctx: Ctx) => ctx.floors.pgbenchTpcb?.tps ?? null },
} as const;

/**
 * Runs `scenario` between two short pgbench runs of the floor it is judged against, and judges the rows it adds
 * against their mean (bracket.ts). Without the run-start floors (--skip-floors, or pgbench failed) it only runs it.
 */
export async function measuredAround(ctx: Ctx, kind: keyof typeof BRACKETED, scenario: () => Promise<void>): Promise<void> {
  const spec = BRACKETED[kind];
  if (ctx.opts.skipFloors || spec.runStart(ctx) == null) return scenario();
  const { conn, password } = pgbenchTarget(ctx);
  const options = { clients: spec.clients(ctx), seconds: Math.max(1, Math.round(ctx.opts.duration / 3)), selectOnly: kind === 'selectOnly' };
  const before = await pgbenchRun(conn, options, password);
  const firstRow = ctx.rows.length;
  await scenario();
  const after = await pgbenchRun(conn, options, password);
  const around = bracket(before.tps, after.tps);
  judgeSinceAgainst(ctx, firstRow, FLOOR_NAMES[kind], around, 'tps', spec.runStart(ctx));
  ctx.log(`  ${FLOOR_NAMES[kind]} around it: ${before.tps.toFixed(0)} before, ${after.tps.toFixed(0)} after (${Math.round(around.drift * 100)}% apart)`);
}

/** The rows pushed since `firstRow` judged against the bracket of `floorName`; the bracket kept in the report's details. */
export function judgeSinceAgainst(ctx: Ctx, firstRow: number, floorName: string, around: FloorBracket, unit: string, runStart: number | null): void {
  const rows = ctx.rows.splice(firstRow);
  ctx.rows.push(...rebase(rows, floorName, around, unit, runStart));
  ctx.details.floorBrackets = { ...(ctx.details.floorBrackets as object | undefined), [rows[0]?.id ?? floorName]: { floorName, ...around } };
}

export async function measureBareServers(ctx: Ctx): Promise<void> {
  const port = ctx.opts.port + 3;
  for (const kind of ['fastify', 'nest'] as const) {
    const proc = startProcess(
      ['-r', 'ts-node/register/transpile-only', join('bench', 'floors', 'bare-server.ts'), kind, String(port)],
      { TS_NODE_PROJECT: 'tsconfig.json', NODE_ENV: 'production' },
      join(ctx.resultsDir, `bare-${kind}.log`),
    );
    try {
      await waitForHttp(`http://127.0.0.1:${port}/ping`, proc, 60_000);
      const next = () => ({ path: '/ping' });
      await runLoad({ baseUrl: `http://127.0.0.1:${port}`, connections: ctx.opts.readConnections, duration: ctx.opts.smoke ? 1 : 3, next });
      const measuredRun = await measured(() => withCpu(ctx, () => runLoad({ baseUrl: `http://127.0.0.1:${port}`, connections: ctx.opts.readConnections, duration: ctx.opts.duration, next }), proc.pid));
      const run = { value: measuredRun.value.value, load: measuredRun.load };
      const cpu = cpuNote(withGeneratorCpu(measuredRun.value.cpu, run.value), run.value.ok).replace('api', 'server').replace(', PostgreSQL 0.00 ms', '');
      if (kind === 'fastify') ctx.floors.bareFastify = run.value;
      else ctx.floors.bareNest = run.value;
      ctx.log(`  bare ${kind}: ${run.value.rps.toFixed(0)} req/s, p99 ${run.value.latencyMs.p99} ms; ${cpu}`);
      ctx.rows.push({
        id: kind === 'fastify' ? 'F3' : 'F4', scenario: `floor: bare ${kind === 'fastify' ? 'Fastify' : 'NestJS-on-Fastify'} route, no database`, metric: `throughput @${ctx.opts.readConnections}`,
        figure: run.value.rps, unit: 'req/s', floorName: null, floor: null, target: { kind: 'none' }, load: run.load, note: `p99 ${run.value.latencyMs.p99} ms; ${cpu}`,
      });
    } finally {
      await proc.stop();
    }
  }
}
