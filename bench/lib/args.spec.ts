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
