import { cpus } from 'node:os';
import type { Pool } from 'pg';
import type { BenchOptions } from '../lib/args';
import type { LoadResult } from '../lib/load';
import { LoadSample, processCpuSeconds, sampleLoad } from '../lib/machine';
import type { ResultRow } from '../lib/report';
import type { RunningProcess } from '../lib/service';
import type { BullFloor } from '../floors/bull-noop';
import type { PgbenchResult } from '../floors/pgbench';
import type { SeedMeta } from '../seed/seed';
import type { SeedPlan } from '../seed/plan';

export type Floors = {
  pgbenchSelectOnly?: PgbenchResult;
  pgbenchTpcb?: PgbenchResult;
  bareFastify?: LoadResult;
  bareNest?: LoadResult;
  bullNoop?: BullFloor;
};

/** The names rows give their floor; a floor measured around a scenario (floors.ts) replaces the floor of rows of its name. */
export const FLOOR_NAMES = { selectOnly: 'pgbench -S tps', tpcb: 'pgbench TPC-B tps', bullNoop: 'Bull no-op jobs/s' } as const;

export type Role = 'api' | 'worker' | 'all';

export type Ctx = {
  opts: BenchOptions;
  plan: SeedPlan;
  meta: SeedMeta;
  adminUrl: string;
  dbUrl: string;
  redisUrl: string;
  queuePrefix: string;
  runId: string;
  resultsDir: string;
  pool: Pool;
  floors: Floors;
  rows: ResultRow[];
  /** Everything else worth keeping: EXPLAIN output, raw load results, per-scenario details. */
  details: Record<string, unknown>;
  log: (message: string) => void;
  serviceEnv: (role: Role, port: number, extra?: Record<string, string>) => Record<string, string>;
  api: RunningProcess | null;
  apiBaseUrl: string;
  routes: Set<string>;
};

/** "L1 1.23 · 97% busy": the 1-minute load average when the run began and how busy the CPUs were during it. */
export async function measured<T>(work: () => Promise<T>): Promise<{ value: T; load: string; before: LoadSample; after: LoadSample }> {
  const before = sampleLoad();
  const value = await work();
  const after = sampleLoad();
  return { value, before, after, load: `L1 ${before.load1.toFixed(2)} · ${after.busyPercent === null ? '?' : Math.round(after.busyPercent)}% busy` };
}

export function hasRoute(ctx: Ctx, method: string, path: string): boolean {
  return ctx.routes.has(`${method.toUpperCase()} ${path}`);
}

export function describeLoad(result: LoadResult): string {
  const codes = Object.entries(result.statusCodes).map(([code, n]) => `${code}×${n}`).join(' ');
  return `${result.generator}: ${result.ok}/${result.requests} ok in ${result.seconds.toFixed(1)} s; p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms${result.errors ? `; ${result.errors} socket errors` : ''}${result.non2xx ? `; non-2xx: ${codes}` : ''}`;
}

export type CpuCost = { apiSeconds: number; postgresSeconds: number; harnessSeconds: number };

/**
 * CPU time spent during `work` by the api process, by the service's PostgreSQL backends (application_name 'sprout' or 'sprout-worker'),
 * and by this harness (autocannon). Per request, these are what the machine's load does not change much.
 */
export async function withCpu<T>(ctx: Ctx, work: () => Promise<T>, serverPid = ctx.api?.pid): Promise<{ value: T; cpu: CpuCost }> {
  const backends = async () =>
    (await ctx.pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name IN ('sprout', 'sprout-worker') AND datname = current_database()`)).rows.map((r) => r.pid);
  const cpuOf = (pids: number[]) => new Map(pids.map((pid) => [pid, processCpuSeconds(pid) ?? 0]));
  const pgBefore = cpuOf(await backends());
  const serverBefore = serverPid ? processCpuSeconds(serverPid) ?? 0 : 0;
  const selfBefore = process.cpuUsage();
  const value = await work();
  const self = process.cpuUsage(selfBefore);
  const serverAfter = serverPid ? processCpuSeconds(serverPid) ?? 0 : 0;
  // Backends opened during the run count from zero; the pool keeps its connections, so few close meanwhile.
  let pg = 0;
  for (const [pid, after] of cpuOf(await backends())) pg += after - (pgBefore.get(pid) ?? 0);
  return { value, cpu: { apiSeconds: serverAfter - serverBefore, postgresSeconds: pg, harnessSeconds: (self.user + self.system) / 1e6 } };
}

/** The load generator's CPU: the harness's own (autocannon runs inside it) plus wrk's when wrk ran the load. */
export function withGeneratorCpu(cpu: CpuCost, result: LoadResult): CpuCost {
  return { ...cpu, harnessSeconds: cpu.harnessSeconds + (result.generatorCpuSeconds ?? 0) };
}

export function cpuNote(cpu: CpuCost, requests: number, cores = cpus().length): string {
  if (!requests) return '';
  const ms = (s: number) => ((1000 * s) / requests).toFixed(2);
  return `CPU per request: api ${ms(cpu.apiSeconds)} ms, PostgreSQL ${ms(cpu.postgresSeconds)} ms, load generator ${ms(cpu.harnessSeconds)} ms${ceilingNote(cpu, requests, cores)}`;
}

/** "; at these costs 2 cores serve at most ~N/s" (cpuCeiling), or nothing when nothing was measured. */
export function ceilingNote(cpu: CpuCost, requests: number, cores = cpus().length): string {
  const ceiling = cpuCeiling(cpu, requests, cores);
  return ceiling ? `; at these costs ${cores} cores serve at most ~${Math.round(ceiling).toLocaleString('en-US')}/s` : '';
}

/**
 * The most requests per second `cores` could serve if every process on the machine spent per request what it spent
 * in this run (BENCHMARKS.md, What limits each scenario now): a figure that moves with the code's cost far more than
 * with the host's moment, unlike a rate. Undefined when nothing was measured.
 */
export function cpuCeiling(cpu: CpuCost, requests: number, cores: number): number | undefined {
  const perRequest = (cpu.apiSeconds + cpu.postgresSeconds + cpu.harnessSeconds) / requests;
  return requests > 0 && perRequest > 0 ? cores / perRequest : undefined;
}
