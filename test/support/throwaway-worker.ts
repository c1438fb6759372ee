import 'reflect-metadata';
import { fork, ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * A Sprout process in its own OS process (run through ts-node), so a fault test can kill it with SIGKILL the way a
 * crashed or OOM-killed worker dies: no shutdown hooks, no lock released, no row updated.
 * `startThrowawayProcess(env)` forks this file; the child boots the app and reports 'ready' (or its error).
 */
export type ThrowawayProcess = { child: ChildProcess; output: () => string; kill: () => Promise<void>; stop: () => Promise<void> };

const ROOT = join(__dirname, '..', '..');

export function startThrowawayProcess(env: Record<string, string>, timeoutMs = 30_000): Promise<ThrowawayProcess> {
  const child = fork(__filename, [], {
    cwd: ROOT,
    env: { ...process.env, ...env, TS_NODE_TRANSPILE_ONLY: 'true', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
    execArgv: ['-r', 'ts-node/register', '-r', 'tsconfig-paths/register'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: ThrowawayProcess = {
    child,
    output: () => output,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`throwaway process not ready within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('message', (message: { ready?: boolean; error?: string }) => {
      clearTimeout(timer);
      if (message.ready) resolve(handle);
      else reject(new Error(`throwaway process failed to start: ${message.error}\n${output}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`throwaway process exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

async function runChild(): Promise<void> {
  const { createApp } = await import('src/app.factory');
  const { loadConfig } = await import('src/config/app-config');
  const { createRootLogger } = await import('src/common/logging/logger');
  try {
    const config = loadConfig(process.env);
    await createApp(config, createRootLogger(config.env.LOG_LEVEL));
    process.send?.({ ready: true });
  } catch (error) {
    process.send?.({ error: (error as Error).message });
    process.exit(1);
  }
}

if (require.main === module && process.send) void runChild();
