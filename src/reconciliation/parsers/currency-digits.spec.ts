import { minorUnitDigits } from 'src/reconciliation/parsers/currency-digits';

describe('minorUnitDigits', () => {
  it.each([
    ['CNY', 2],
    ['EUR', 2],
    ['USD', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['VND', 0],
    ['KWD', 3],
    ['BHD', 3],
    ['OMR', 3],
    ['JOD', 3],
    ['TND', 3],
    ['LYD', 3],
    ['IQD', 3],
    ['CLF', 4],
    ['XYZ', 2],
  ])('%s has %d', (currency, digits) => {
    expect(minorUnitDigits(currency)).toBe(digits);
  });
});
