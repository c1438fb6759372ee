import type { ResultRow } from '../lib/report';
import { judge } from '../lib/report';
import { bracket, rebase, UNSTEADY_DRIFT } from './bracket';

const row = (over: Partial<ResultRow>): ResultRow => ({
  id: '1a',
  scenario: 'GET /applications/:id (owner)',
  metric: 'throughput @32',
  figure: 4_800,
  unit: 'req/s',
  floorName: 'pgbench -S tps',
  floor: 18_000,
  target: { kind: 'minRatio', value: 0.3 },
  load: 'L1 1.20 · 64% busy',
  note: 'CPU per request: api 0.19 ms',
  ...over,
});

describe('floor brackets', () => {
  it('judges against the mean of the two ends and measures how far apart they are', () => {
    expect(bracket(15_000, 17_000)).toEqual({ before: 15_000, after: 17_000, floor: 16_000, drift: 0.125 });
    expect(bracket(16_000, 16_000).drift).toBe(0);
  });

  it('refuses a floor that was not measured', () => {
    expect(() => bracket(0, 16_000)).toThrow(RangeError);
    expect(() => bracket(16_000, Number.NaN)).toThrow(RangeError);
  });

  it('rebases only the rows judged against that floor, so a verdict can change with it', () => {
    // 4,800 req/s is 26.7% of a run-start floor of 18,000 (MISS) but 30% of the 16,000 around the run (PASS).
    const [read, latency, other] = rebase(
      [row({}), row({ id: '1b', floorName: null, floor: null, target: { kind: 'max', value: 20, unit: 'ms' } }), row({ id: '3d', floorName: 'pgbench TPC-B tps', floor: 2_000 })],
      'pgbench -S tps',
      bracket(15_500, 16_500),
      'tps',
      18_000,
    );
    expect(judge(row({})).verdict).toBe('MISS');
    expect(read.floor).toBe(16_000);
    expect(judge(read).verdict).toBe('PASS');
    expect(read.load).toBe('L1 1.20 · 64% busy · floor ±3%');
    expect(read.note).toBe('CPU per request: api 0.19 ms; floor 15,500 tps just before this run, 16,500 just after (6% apart); 18,000 at the run\'s start');
    expect(latency).toEqual(row({ id: '1b', floorName: null, floor: null, target: { kind: 'max', value: 20, unit: 'ms' } }));
    expect(other.floor).toBe(2_000);
  });

  it('says so when the machine changed speed during the run', () => {
    const steady = rebase([row({})], 'pgbench -S tps', bracket(16_000, 16_000 * (1 + UNSTEADY_DRIFT * 0.9)), 'tps', null)[0];
    const unsteady = rebase([row({})], 'pgbench -S tps', bracket(12_000, 18_000), 'tps', null)[0];
    expect(steady.note).not.toMatch(/not a steady verdict/);
    expect(unsteady.note).toMatch(/changed by 40% during this run: its ratio is not a steady verdict/);
    expect(unsteady.note).not.toMatch(/run's start/);
  });

  it('leaves a row without a figure (a scenario that failed) as it was', () => {
    const failed = row({ figure: null, note: undefined });
    expect(rebase([failed], 'pgbench -S tps', bracket(15_000, 17_000), 'tps', 18_000)).toEqual([failed]);
  });
});
