import 'reflect-metadata';
import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

/**
 * A Sprout api (or all-roles) process listening on `port`, in its own OS process, so a fault test can SIGKILL it in
 * the middle of requests the way an OOM-killed or crashed replica dies: no shutdown hooks, no response, no cleanup.
 */
export type ThrowawayApi = { child: ChildProcess; url: string; output: () => string; kill: () => Promise<void>; stop: () => Promise<void> };

const ROOT = join(__dirname, '..', '..');

export function startThrowawayApi(env: Record<string, string>, port: number, timeoutMs = 60_000): Promise<ThrowawayApi> {
  const child = fork(__filename, [], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', TS_NODE_TRANSPILE_ONLY: 'true', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
    execArgv: ['-r', 'ts-node/register', '-r', 'tsconfig-paths/register'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: ThrowawayApi = {
    child,
    url: `http://127.0.0.1:${port}`,
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
      reject(new Error(`throwaway api not ready within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('message', (message: { ready?: boolean; error?: string }) => {
      clearTimeout(timer);
      if (message.ready) resolve(handle);
      else reject(new Error(`throwaway api failed to start: ${message.error}\n${output}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`throwaway api exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

/**
 * With THROWAWAY_SIGTERM_DURING_INIT=true the child sends itself SIGTERM as Nest's init hooks begin, the way a supervisor
 * stops a start-up that load made slow, and lets init go on once whatever handled the signal has started Fastify
 * (or after 2 s): the window in which a SIGTERM made init() fail with Fastify's "already listening".
 */
async function signalDuringInit(): Promise<void> {
  const { NestApplication } = await import('@nestjs/core');
  const { kState } = require('fastify/lib/symbols') as { kState: symbol }; // internal, for this test only
  type Hooked = { callInitHook: () => Promise<void>; getHttpAdapter: () => { getInstance: () => Record<symbol, { started: boolean }> } };
  const proto = NestApplication.prototype as unknown as Hooked;
  const callInitHook = proto.callInitHook;
  proto.callInitHook = async function (this: Hooked) {
    process.kill(process.pid, 'SIGTERM');
    const fastify = this.getHttpAdapter().getInstance();
    for (let waited = 0; waited < 2000 && !fastify[kState].started; waited += 10) await new Promise((r) => setTimeout(r, 10));
    return callInitHook.call(this);
  };
}

async function runChild(): Promise<void> {
  if (process.env.THROWAWAY_SIGTERM_DURING_INIT === 'true') await signalDuringInit();
  const { createApp } = await import('src/app.factory');
  const { loadConfig } = await import('src/config/app-config');
  const { createRootLogger } = await import('src/common/logging/logger');
  try {
    const config = loadConfig(process.env);
    const app = await createApp(config, createRootLogger(config.env.LOG_LEVEL));
    await app.listen({ port: config.env.PORT, host: config.env.HOST });
    process.send?.({ ready: true });
  } catch (error) {
    process.send?.({ error: (error as Error).message });
    process.exit(1);
  }
}

if (require.main === module && process.send) void runChild();
