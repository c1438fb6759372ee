/**
 * wrk (C, epoll) as the load generator of duration-based GET runs. autocannon runs in the harness's own Node process
 * and spent ~0.24 ms of CPU per request on this 2-core machine, as much as a quarter of what the service under test
 * got; wrk spends a fraction of that, so the figures measure the service rather than the generator.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadOptions, LoadRequest, LoadResult } from './load';

const SCRIPT = join(__dirname, 'wrk.lua');
/** Requests prepared per run: every scenario cycles through at most 20,000 distinct requests. */
const PREPARED = 20_000;
const THREADS = 2;

type WrkSummary = {
  requests: number; durationUs: number; connect: number; read: number; write: number; status: number; timeout: number;
  meanUs: number; p50Us: number; p90Us: number; p99Us: number; p999Us: number; maxUs: number;
};

let available: boolean | undefined;
export function wrkAvailable(): boolean {
  return (available ??= !spawnSync('wrk', ['--version']).error);
}

/** wrk can take this run: a fixed duration of GETs without bodies (write runs count requests, which wrk cannot). */
export function wrkCanRun(options: LoadOptions, sample: LoadRequest): boolean {
  return !options.amount && (sample.method ?? 'GET') === 'GET' && !sample.body;
}

/** One line per request: path, then its headers, tab-separated (what wrk.lua reads). */
export function requestLines(requests: readonly LoadRequest[]): string {
  return requests
    .map((r) => {
      const headers = Object.entries(r.headers ?? {}).map(([name, value]) => `${name}: ${value}`);
      const fields = [r.path, ...headers];
      if (fields.some((f) => /[\t\r\n]/.test(f))) throw new Error(`request ${r.path} holds a tab or a line break`);
      return fields.join('\t');
    })
    .join('\n');
}

export function parseWrkOutput(stdout: string): { summary: WrkSummary; cpuSeconds: number } {
  const result = /^WRK_RESULT (\{.*\})$/m.exec(stdout);
  const cpu = /^WRK_CPU (\d+) (\d+) (\d+)$/m.exec(stdout);
  if (!result || !cpu) throw new Error(`wrk printed no result:\n${stdout.slice(-2000)}`);
  const [, user, system, ticks] = cpu.map(Number);
  return { summary: JSON.parse(result[1]) as WrkSummary, cpuSeconds: (user + system) / ticks };
}

export async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-wrk-'));
  try {
    const file = join(dir, 'requests.tsv');
    writeFileSync(file, requestLines(Array.from({ length: PREPARED }, () => options.next())));
    const seconds = options.duration ?? 10;
    const args = [
      '-t', String(THREADS), '-c', String(options.connections), '-d', `${seconds}s`, '--timeout', `${options.timeoutSeconds ?? 30}s`,
      '-s', SCRIPT, options.baseUrl, '--', file, ...(options.rate ? [String(options.rate / THREADS)] : []),
    ];
    // The shell waits for wrk, then reads its own children's CPU time (cutime, cstime) from /proc.
    const shell = 'wrk "$@"; rc=$?; read -r -a s < /proc/$$/stat; echo "WRK_CPU ${s[15]} ${s[16]} $(getconf CLK_TCK)"; exit $rc';
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn('bash', ['-c', shell, 'wrk', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}:\n${out.slice(-2000)}`))));
    });
    const { summary: s, cpuSeconds } = parseWrkOutput(stdout);
    const runSeconds = s.durationUs / 1e6;
    const ok = s.requests - s.status;
    const ms = (us: number) => Math.round(us / 10) / 100;
    return {
      generator: 'wrk',
      generatorCpuSeconds: cpuSeconds,
      requests: s.requests,
      ok,
      non2xx: s.status,
      errors: s.connect + s.read + s.write,
      timeouts: s.timeout,
      seconds: runSeconds,
      rps: runSeconds > 0 ? ok / runSeconds : 0,
      latencyMs: { mean: ms(s.meanUs), p50: ms(s.p50Us), p90: ms(s.p90Us), p99: ms(s.p99Us), p999: ms(s.p999Us), max: ms(s.maxUs) },
      statusCodes: s.status ? { '2xx/3xx': ok, '4xx/5xx': s.status } : { '2xx/3xx': ok },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
