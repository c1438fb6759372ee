import fc from 'fast-check';
import { TrancheSplitError, splitIntoTranches } from 'src/disbursements/tranche-split';

/** Shares of 10^digits that add up to exactly 1, written as decimal strings. */
const sharesSummingToOne = fc
  .record({ digits: fc.integer({ min: 0, max: 8 }), count: fc.integer({ min: 1, max: 8 }) })
  .filter(({ digits, count }) => 10 ** digits >= count)
  .chain(({ digits, count }) =>
    fc
      .uniqueArray(fc.integer({ min: 1, max: Math.max(1, 10 ** digits - 1) }), { minLength: count - 1, maxLength: count - 1 })
      .map((cuts) => {
        const bounds = [0, ...cuts.sort((a, b) => a - b), 10 ** digits];
        return bounds.slice(1).map((bound, i) => asDecimal(bound - bounds[i], digits));
      }),
  );

function asDecimal(units: number, digits: number): string {
  if (digits === 0) return String(units);
  const text = String(units).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

const totals = fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 10 ** 15 }));

describe('splitIntoTranches', () => {
  it.each([
    [10_000_000, ['1'], [10_000_000]],
    [10_000_000, ['0.5', '0.5'], [5_000_000, 5_000_000]],
    [10_000_001, ['0.5', '0.5'], [5_000_001, 5_000_000]],
    [100, ['0.3333', '0.3333', '0.3334'], [33, 33, 34]],
    [10, ['0.3333', '0.3333', '0.3334'], [3, 3, 4]],
    [2, ['0.25', '0.25', '0.25', '0.25'], [1, 1, 0, 0]],
    [3, ['0.5', '0.25', '0.25'], [1, 1, 1]],
    [7, ['0.6', '0.4'], [4, 3]],
    [0, ['0.6', '0.4'], [0, 0]],
    [5_000_000, ['0.60', '0.400'], [3_000_000, 2_000_000]],
  ])('splits %d by %p into %p', (total, shares, expected) => {
    expect(splitIntoTranches(total, shares)).toEqual(expected);
  });

  it.each([
    [-1, ['1'], 'total -1 is not a whole number of minor units ≥ 0'],
    [1.5, ['1'], 'total 1.5 is not a whole number of minor units ≥ 0'],
    [Number.NaN, ['1'], 'total NaN is not a whole number of minor units ≥ 0'],
    [2 ** 53, ['1'], 'total 9007199254740992 is not a whole number of minor units ≥ 0'],
    [100, [], 'at least one share is needed'],
    [100, ['0.5', '0.49'], 'shares 0.5 + 0.49 do not add up to exactly 1'],
    [100, ['0.5', '0.51'], 'shares 0.5 + 0.51 do not add up to exactly 1'],
    [100, ['1', '0'], "share 2 '0' is zero"],
    [100, ['1.00', '0.00'], "share 2 '0.00' is zero"],
    [100, ['-0.5', '1.5'], "share 1 '-0.5' is not a decimal like 0.25"],
    [100, ['1/2', '1/2'], "share 1 '1/2' is not a decimal like 0.25"],
    [100, ['.5', '.5'], "share 1 '.5' is not a decimal like 0.25"],
    [100, ['5e-1', '0.5'], "share 1 '5e-1' is not a decimal like 0.25"],
    [100, [' 0.5', '0.5'], "share 1 ' 0.5' is not a decimal like 0.25"],
  ])('refuses total %p with shares %p', (total, shares, message) => {
    expect(() => splitIntoTranches(total, shares)).toThrow(new TrancheSplitError(message));
  });

  it('always sums exactly to the total, never below zero, each part within 1 fen of its exact share', () => {
    fc.assert(
      fc.property(totals, sharesSummingToOne, (total, shares) => {
        const parts = splitIntoTranches(total, shares);
        expect(parts).toHaveLength(shares.length);
        expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
        parts.forEach((part, i) => {
          expect(Number.isSafeInteger(part) && part >= 0).toBe(true);
          const [whole, fraction = ''] = shares[i].split('.');
          const denominator = 10n ** BigInt(fraction.length);
          const gap = BigInt(part) * denominator - BigInt(total) * BigInt(whole + fraction);
          expect(gap < denominator && gap > -denominator).toBe(true);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('gives equal shares parts that differ by at most 1 fen, the larger ones first', () => {
    fc.assert(
      fc.property(totals, fc.constantFrom(['0.5', '0.5'], ['0.25', '0.25', '0.25', '0.25'], ['0.2', '0.2', '0.2', '0.2', '0.2']), (total, shares) => {
        const parts = splitIntoTranches(total, shares);
        expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
        expect([...parts].sort((a, b) => b - a)).toEqual(parts);
      }),
    );
  });

  it('is deterministic and does not depend on how the shares are written', () => {
    fc.assert(
      fc.property(totals, sharesSummingToOne, fc.nat({ max: 4 }), (total, shares, zeros) => {
        const padded = shares.map((share) => (share.includes('.') ? share : `${share}.`) + '0'.repeat(zeros)).map((s) => s.replace(/\.$/, ''));
        expect(splitIntoTranches(total, padded)).toEqual(splitIntoTranches(total, shares));
      }),
    );
  });
});
