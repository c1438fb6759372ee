import { parsePgbench, pgConn } from './pgbench';

const OUTPUT = `pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: <builtin: select only>
scaling factor: 10
query mode: simple
number of clients: 32
number of threads: 2
maximum number of tries: 1
duration: 15 s
number of transactions actually processed: 210345
number of failed transactions: 0 (0.000%)
latency average = 2.281 ms
initial connection time = 31.522 ms
tps = 14023.412345 (without initial connection time)
`;

describe('pgbench output', () => {
  it('reads tps, average latency and the transaction count', () => {
    expect(parsePgbench(OUTPUT, 32, 15)).toEqual({ tps: 14023.412345, latencyMs: 2.281, clients: 32, seconds: 15, transactions: 210345 });
  });

  it('reads the older "excluding connections establishing" form', () => {
    expect(parsePgbench('tps = 812.5 (including connections establishing)\ntps = 815.0 (excluding connections establishing)\n', 16, 15).tps).toBe(815);
  });

  it('refuses output without tps', () => {
    expect(() => parsePgbench('connection to server failed', 1, 1)).toThrow(/no tps/);
  });

  it('takes the connection from a URL', () => {
    expect(pgConn('postgres://postgres@127.0.0.1:5432/sprout_bench_pgbench')).toEqual({ host: '127.0.0.1', port: '5432', user: 'postgres', database: 'sprout_bench_pgbench' });
  });
});
