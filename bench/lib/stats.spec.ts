import { describeTarget, formatNumber, formatRatio, median, percentile, ratio, verdict } from './stats';

describe('percentile', () => {
  it('takes the nearest rank of unsorted samples', () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 90)).toBe(9);
    expect(percentile(samples, 99)).toBe(10);
    expect(percentile(samples, 100)).toBe(10);
    expect(percentile(samples, 0)).toBe(1);
    expect(median([3, 1, 2])).toBe(2);
  });

  it('is NaN without samples and refuses p outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });

  it('does not reorder the caller\'s array', () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
  });
});

describe('ratio and verdict', () => {
  it('divides the figure by its floor, null when either is missing or the floor is not positive', () => {
    expect(ratio(30, 100)).toBeCloseTo(0.3);
    expect(ratio(null, 100)).toBeNull();
    expect(ratio(30, 0)).toBeNull();
    expect(ratio(30, undefined)).toBeNull();
    expect(ratio(Number.NaN, 10)).toBeNull();
  });

  it('passes a ratio target at exactly the threshold and misses just below', () => {
    expect(verdict({ kind: 'minRatio', value: 0.3 }, 30, 0.3)).toBe('PASS');
    expect(verdict({ kind: 'minRatio', value: 0.3 }, 29.9, 0.299)).toBe('MISS');
    expect(verdict({ kind: 'minRatio', value: 0.3 }, 30, null)).toBe('ERROR');
  });

  it('judges "<" targets strictly and "≥" targets inclusively', () => {
    expect(verdict({ kind: 'max', value: 20, unit: 'ms' }, 19.9, null)).toBe('PASS');
    expect(verdict({ kind: 'max', value: 20, unit: 'ms' }, 20, null)).toBe('MISS');
    expect(verdict({ kind: 'min', value: 5, unit: '' }, 5, null)).toBe('PASS');
    expect(verdict({ kind: 'max', value: 20, unit: 'ms' }, null, null)).toBe('ERROR');
    expect(verdict({ kind: 'none' }, 1, null)).toBe('INFO');
    expect(verdict({ kind: 'none' }, 1, null, true)).toBe('ERROR');
  });
});

describe('formatting', () => {
  it('formats figures, ratios and targets for the table', () => {
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(42.25)).toBe('42.3');
    expect(formatNumber(1.234)).toBe('1.23');
    expect(formatNumber(null)).toBe('n/a');
    expect(formatRatio(0.3456)).toBe('34.6%');
    expect(formatRatio(null)).toBe('n/a');
    expect(describeTarget({ kind: 'minRatio', value: 0.4 })).toBe('≥ 40% of floor');
    expect(describeTarget({ kind: 'max', value: 300, unit: 'MiB' })).toBe('< 300 MiB');
    expect(describeTarget({ kind: 'none' })).toBe('—');
  });
});
