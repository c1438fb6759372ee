import { parseArgs, SCENARIOS } from './args';

describe('parseArgs', () => {
  it('defaults to the full national-scale run', () => {
    const o = parseArgs([]);
    expect(o).toMatchObject({ scale: 1, smoke: false, duration: 15, database: 'sprout_bench', readConnections: 32, writeConnections: 16, notifyEvents: 10_000, notifyWorkers: 1, cleanup: false, reuse: false });
    expect(o.only).toEqual([...SCENARIOS]);
  });

  it('makes the smoke run tiny, short, and self-cleaning in its own database', () => {
    expect(parseArgs(['--smoke'])).toMatchObject({ scale: 0.0005, duration: 2, database: 'sprout_bench_smoke', cleanup: true, notifyEvents: 30 });
  });

  it('reads "--name value" and "--name=value"', () => {
    expect(parseArgs(['--scale', '0.01', '--duration=5', '--only', 'read,queue', '--reuse'])).toMatchObject({ scale: 0.01, duration: 5, only: ['read', 'queue'], reuse: true });
  });

  it('takes settings for the service processes, values may hold "="', () => {
    expect(parseArgs([]).serviceEnv).toEqual({});
    expect(parseArgs(['--service-env', 'DATABASE_POOL_SIZE=4,NOTIFY_CONCURRENCY=8']).serviceEnv).toEqual({ DATABASE_POOL_SIZE: '4', NOTIFY_CONCURRENCY: '8' });
    expect(parseArgs(['--service-env=SMTP_URL=smtp://h:25/?a=b']).serviceEnv).toEqual({ SMTP_URL: 'smtp://h:25/?a=b' });
    expect(() => parseArgs(['--service-env', 'pool=4'])).toThrow(/NAME=value/);
    expect(() => parseArgs(['--service-env'])).toThrow(/--service-env/);
  });

  it('refuses unknown options, bad numbers, unknown scenarios and databases it must not drop', () => {
    expect(() => parseArgs(['--scael', '1'])).toThrow(/unknown option --scael/);
    expect(() => parseArgs(['--scale', 'big'])).toThrow(/--scale must be a number/);
    expect(() => parseArgs(['--scale', '2'])).toThrow(/--scale/);
    expect(() => parseArgs(['--duration', '1.5'])).toThrow(/integer/);
    expect(() => parseArgs(['--only', 'read,fly'])).toThrow(/--only/);
    expect(() => parseArgs(['--db', 'sprout'])).toThrow(/sprout_bench/);
    expect(() => parseArgs(['stray'])).toThrow(/unexpected argument/);
  });
});
