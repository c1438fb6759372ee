import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
/** The service is built into a directory of the harness's own (git-ignored), so other engineers' `dist/` is never touched. */
export const SERVICE_BUILD_DIR = join(ROOT, 'var', 'bench-dist');
export const SERVICE_MAIN = join(SERVICE_BUILD_DIR, 'src', 'main.js');
/**
 * The Node flags the service runs with in production (`npm start`, `start:prod`, the Dockerfile's CMD; a spec keeps
 * them the same), so the bench measures what is deployed. A `--max-old-space-size` in NODE_OPTIONS is left to win, for
 * experiments (on the command line the flag would override it).
 */
export const SERVICE_HEAP_FLAG = '--max-old-space-size=1024';
export const SERVICE_NODE_ARGS = /--max-old-space-size/.test(process.env.NODE_OPTIONS ?? '') ? [] : [SERVICE_HEAP_FLAG];

export type RunningProcess = {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  /** Sends SIGTERM (graceful shutdown), SIGKILL after `graceMs`; resolves when the process is gone. */
  stop: (graceMs?: number) => Promise<void>;
  exited: Promise<number | null>;
};

const running = new Set<RunningProcess>();

/** Starts a Node process with stdout/stderr appended to `logFile`. Every process started here is stopped by stopAll(). */
export function startProcess(args: string[], env: Record<string, string>, logFile: string, nodeArgs: string[] = []): RunningProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const handle: RunningProcess = {
    child,
    pid: child.pid!,
    startedAt: performance.now(),
    exited,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(handle);
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(5_000)));
}

/** Starts the built service (SERVICE_MAIN) with the production flags, then `extraNodeArgs` (profiling). */
export function startService(env: Record<string, string>, logFile: string, extraNodeArgs: string[] = []): RunningProcess {
  return startProcess([SERVICE_MAIN], env, logFile, [...SERVICE_NODE_ARGS, ...experimentNodeArgs(), ...extraNodeArgs]);
}

/** Polls `url` until it answers 200; returns the milliseconds since `since`. Throws when the process exits or time runs out. */
export async function waitForHttp(url: string, proc: RunningProcess | null, timeoutMs: number, since = performance.now(), intervalMs = 10): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc?.exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined) throw new Error(`process exited (${exitCode}) before ${url} answered`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The harness's environment minus anything that would configure the service behind the bench's back. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(DATABASE_|REDIS_|QUEUE_|SMTP_|APP_|JWT_|DATA_|MIGRATIONS_|LOG_|PORT$|HOST$|NODE_ENV$|TS_NODE_|STATEMENT_|OUTBOX_|NOTIFY_)/.test(key)) continue;
    env[key] = value;
  }
  return env;
}

export { ChildProcess };

/** `BENCH_SERVICE_NODE_FLAGS="--trace-gc …"`: Node flags for the service processes of one run (experiments; logged in their log files). */
export function experimentNodeArgs(value = process.env.BENCH_SERVICE_NODE_FLAGS): string[] {
  return (value ?? '').split(/\s+/).filter(Boolean);
}
