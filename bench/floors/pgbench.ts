import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type PgbenchResult = { tps: number; latencyMs: number | null; clients: number; seconds: number; transactions: number | null };

export type PgConn = { host: string; port: string; user: string; database: string };

export function pgConn(url: string): PgConn {
  const u = new URL(url);
  return { host: u.hostname, port: u.port || '5432', user: decodeURIComponent(u.username || 'postgres'), database: decodeURIComponent(u.pathname.slice(1)) };
}

function pgEnv(conn: PgConn, password: string | undefined): NodeJS.ProcessEnv {
  return { ...process.env, PGHOST: conn.host, PGPORT: conn.port, PGUSER: conn.user, ...(password ? { PGPASSWORD: password } : {}) };
}

/** `pgbench -i`: the standard tables at `scale` (100,000 accounts per unit). */
export async function pgbenchInit(conn: PgConn, scale: number, password?: string): Promise<void> {
  await run('pgbench', ['-i', '-q', '-s', String(scale), conn.database], { env: pgEnv(conn, password), maxBuffer: 16 << 20 });
}

/** TPC-B-like (default script) or select-only (-S), over TCP like the service, `clients` connections on 2 threads. */
export async function pgbenchRun(conn: PgConn, options: { clients: number; seconds: number; selectOnly: boolean }, password?: string): Promise<PgbenchResult> {
  const args = ['-n', '-c', String(options.clients), '-j', '2', '-T', String(options.seconds), ...(options.selectOnly ? ['-S'] : []), conn.database];
  const { stdout } = await run('pgbench', args, { env: pgEnv(conn, password), maxBuffer: 16 << 20 });
  return parsePgbench(stdout, options.clients, options.seconds);
}

export function parsePgbench(stdout: string, clients: number, seconds: number): PgbenchResult {
  const tps = /tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/.exec(stdout) ?? /tps = ([\d.]+)/.exec(stdout);
  if (!tps) throw new Error(`pgbench printed no tps:\n${stdout}`);
  const latency = /latency average = ([\d.]+) ms/.exec(stdout);
  const transactions = /number of transactions actually processed: (\d+)/.exec(stdout);
  return { tps: Number(tps[1]), latencyMs: latency ? Number(latency[1]) : null, clients, seconds, transactions: transactions ? Number(transactions[1]) : null };
}
