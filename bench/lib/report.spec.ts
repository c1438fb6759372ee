import { judge, markdownTable, ResultRow, summarize, textTable } from './report';

const row = (over: Partial<ResultRow>): ResultRow => ({
  id: '1a',
  scenario: 'GET /applications/:id (owner)',
  metric: 'throughput @32',
  figure: 3000,
  unit: 'req/s',
  floorName: 'pgbench -S tps',
  floor: 8000,
  target: { kind: 'minRatio', value: 0.3 },
  load: 'L1 0.20 · 99% busy',
  ...over,
});

describe('results table', () => {
  it('judges each row against its floor and target', () => {
    expect(judge(row({})).verdict).toBe('PASS');
    expect(judge(row({})).ratio).toBeCloseTo(0.375);
    expect(judge(row({ figure: 2000 })).verdict).toBe('MISS');
    expect(judge(row({ target: { kind: 'max', value: 20, unit: 'ms' }, figure: 25, floor: null })).verdict).toBe('MISS');
  });

  it('writes a markdown table with the floor beside each figure, and notes below it', () => {
    const md = markdownTable([judge(row({ note: 'p99 12 ms' })), judge(row({ id: '1b', metric: 'p99', figure: 12, unit: 'ms', floor: null, floorName: null, target: { kind: 'max', value: 20, unit: 'ms' } }))]);
    const lines = md.trim().split('\n');
    expect(lines[0]).toBe('| # | scenario | metric | figure | floor | ratio | target | verdict | load |');
    expect(lines[2]).toBe('| 1a | GET /applications/:id (owner) | throughput @32 | 3,000 req/s | 8,000 (pgbench -S tps) | 37.5% | ≥ 30% of floor | PASS | L1 0.20 · 99% busy |');
    expect(lines[3]).toContain('| 12.0 ms | — | — | < 20.0 ms | PASS |');
    expect(md).toContain('- 1a: p99 12 ms');
  });

  it('escapes pipes inside cells', () => {
    expect(markdownTable([judge(row({ scenario: 'a|b' }))])).toContain('a\\|b');
  });

  it('aligns the terminal table on the widest cell of each column', () => {
    const text = textTable([judge(row({})), judge(row({ id: '10', scenario: 'x' }))]).split('\n');
    const column = (line: string) => line.indexOf('throughput');
    expect(column(text[2])).toBe(column(text[3]));
    expect(column(text[2])).toBeGreaterThan(0);
  });

  it('counts verdicts', () => {
    expect(summarize([judge(row({})), judge(row({ figure: 1 })), judge(row({ target: { kind: 'none' } }))])).toEqual({ PASS: 1, MISS: 1, INFO: 1, ERROR: 0 });
  });
});
