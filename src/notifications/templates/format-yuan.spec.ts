import fc from 'fast-check';
import { formatYuan } from 'src/notifications/templates/format-yuan';

describe('formatYuan', () => {
  it.each([
    [0, '¥0.00'],
    [5, '¥0.05'],
    [100, '¥1.00'],
    [123456, '¥1,234.56'],
    [123456789, '¥1,234,567.89'],
    [-250, '-¥2.50'],
  ])('formats %p fen as %p', (fen, expected) => {
    expect(formatYuan(fen)).toBe(expected);
  });

  it('takes the digit strings that bigint columns arrive as, beyond the safe integer range', () => {
    expect(formatYuan('900719925474099312')).toBe('¥9,007,199,254,740,993.12');
    expect(formatYuan(10n ** 20n)).toBe('¥1,000,000,000,000,000,000.00');
  });

  it.each([[1.5], [Number.NaN], [Number.MAX_SAFE_INTEGER + 1], ['12.50'], ['1e5'], [''], [undefined], [null], [{}]])(
    'refuses %p, which is not an integer amount in fen',
    (amount) => {
      expect(() => formatYuan(amount as never)).toThrow('money expects an integer amount in fen');
    },
  );

  it('is exact for any amount: the digits read back to the same number of fen, grouped by thousands', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }), (fen) => {
        const formatted = formatYuan(fen);
        expect(formatted).toMatch(/^-?¥\d{1,3}(,\d{3})*\.\d{2}$/);
        expect(BigInt(formatted.replace(/[¥,.]/g, ''))).toBe(fen);
      }),
    );
  });

  it('gives the same result for a number and for its string', () => {
    fc.assert(fc.property(fc.maxSafeInteger(), (fen) => expect(formatYuan(fen)).toBe(formatYuan(String(fen)))));
  });
});
