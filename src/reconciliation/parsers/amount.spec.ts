import fc from 'fast-check';
import {
  AmountFormatError,
  MAX_MINOR_UNITS,
  decimalToMinorUnits,
  minorUnitsToDecimal,
} from 'src/reconciliation/parsers/amount';

describe('decimalToMinorUnits', () => {
  it.each([
    ['8.85', 885],
    ['8.850', 885],
    ['8.8500000', 885],
    ['50000.00', 5_000_000],
    ['50000', 5_000_000],
    ['0.5', 50],
    ['0.05', 5],
    ['0', 0],
    ['0.00', 0],
    ['007.10', 710],
    ['10000000000.00', MAX_MINOR_UNITS],
  ])('reads %s as %d minor units', (text, expected) => {
    expect(decimalToMinorUnits(text)).toBe(expected);
  });

  it.each([
    ['8.851', 'has more than two significant decimals'],
    ['0.001', 'has more than two significant decimals'],
    ['10000000000.01', 'is more than 10000000000.00, the most one statement entry may hold'],
    ['99999999999999999999', 'is more than 10000000000.00, the most one statement entry may hold'],
  ])('refuses %s: %s', (text, reason) => {
    expect(() => decimalToMinorUnits(text)).toThrow(new AmountFormatError(text, reason));
  });

  it.each([
    ['12.345', 3, 12_345],
    ['12.3', 3, 12_300],
    ['0.001', 3, 1],
    ['12.3450', 3, 12_345],
    ['1500', 0, 1_500],
    ['1500.00', 0, 1_500],
    ['1.2345', 4, 12_345],
    ['1000000000.000', 3, MAX_MINOR_UNITS],
  ])("reads %s with %d minor digits (the currency's own) as %d", (text, digits, expected) => {
    expect(decimalToMinorUnits(text, digits)).toBe(expected);
  });

  it.each([
    ['12.3456', 3, 'has more than three significant decimals'],
    ['1500.5', 0, 'has significant decimals, which the currency has none of'],
    ['1000000000.001', 3, 'is more than 1000000000.000, the most one statement entry may hold'],
    ['1000000000001', 0, 'is more than 1000000000000, the most one statement entry may hold'],
  ])('refuses %s with %d minor digits: %s', (text, digits, reason) => {
    expect(() => decimalToMinorUnits(text, digits)).toThrow(new AmountFormatError(text, reason));
  });

  it.each(['', ' ', '-1.00', '+1.00', '1e3', '1E3', '1,000.00', '12,5', ' 1.00', '1.00 ', '.5', '5.', '.', '1.2.3', 'NaN', 'Infinity', '0x10', '１２'])(
    'refuses %p as not a decimal',
    (text) => {
      expect(() => decimalToMinorUnits(text)).toThrow(AmountFormatError);
      expect(() => decimalToMinorUnits(text)).toThrow(/is not a decimal$/);
    },
  );

  it('keeps the offending text in the error', () => {
    const error = captureError(() => decimalToMinorUnits('12,5'));
    expect(error).toBeInstanceOf(AmountFormatError);
    expect(error).toMatchObject({ input: '12,5', reason: 'is not a decimal', message: "'12,5' is not a decimal" });
  });

  it('round-trips every amount through its decimal text', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MINOR_UNITS }), (minorUnits) => {
        expect(decimalToMinorUnits(minorUnitsToDecimal(minorUnits))).toBe(minorUnits);
      }),
    );
  });

  it('ignores trailing zeros of the fraction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MINOR_UNITS }), fc.nat({ max: 10 }), (minorUnits, zeros) => {
        expect(decimalToMinorUnits(minorUnitsToDecimal(minorUnits) + '0'.repeat(zeros))).toBe(minorUnits);
      }),
    );
  });
});

describe('minorUnitsToDecimal', () => {
  it.each([
    [5_000_000, '50000.00'],
    [885, '8.85'],
    [50, '0.50'],
    [5, '0.05'],
    [0, '0.00'],
    [-1234, '-12.34'],
    [-5, '-0.05'],
    [10n ** 17n, '1000000000000000.00'],
  ])('writes %d as %s', (minorUnits, expected) => {
    expect(minorUnitsToDecimal(minorUnits)).toBe(expected);
  });

  it.each([0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuses %p', (value) => {
    expect(() => minorUnitsToDecimal(value)).toThrow(RangeError);
  });
});

function captureError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
