import { nestingExceeds } from 'src/common/validation/json-body-parser';

describe('nestingExceeds', () => {
  it('counts objects and arrays, not brackets inside strings', () => {
    expect(nestingExceeds('{"a":{"b":[1,2]}}', 3)).toBe(false);
    expect(nestingExceeds('{"a":{"b":[1,2]}}', 2)).toBe(true);
    expect(nestingExceeds(JSON.stringify({ s: '[[[[[[[[{{{{{{' }), 1)).toBe(false);
    expect(nestingExceeds(JSON.stringify({ s: 'a\\"[[[[' }), 1)).toBe(false);
    expect(nestingExceeds('['.repeat(100_000) + ']'.repeat(100_000), 32)).toBe(true);
  });

  it('counts depth, not the number of siblings', () => {
    expect(nestingExceeds(JSON.stringify(Array.from({ length: 1000 }, () => ({ a: [1] }))), 3)).toBe(false);
  });

  it('passes the deepest real body (the means policy) under the limit', () => {
    expect(nestingExceeds(JSON.stringify({ tranches: { hsct: [{ label: 'x', share: '1' }] }, minimumLivingStandards: [{ region: 'CN' }] }), 32)).toBe(false);
  });
});
