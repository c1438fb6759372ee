import { findLongArray, findUnstorableString, MAX_JSON_ARRAY_ITEMS, nestingExceeds } from 'src/common/validation/json-body-parser';

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

describe('findUnstorableString', () => {
  it('finds half a surrogate pair or a NUL in a value or a key, and names where', () => {
    expect(findUnstorableString(JSON.parse('{"email":"\\ud800"}'))).toBe('$.email');
    expect(findUnstorableString(JSON.parse('{"a":[1,{"b":"x\\udfffy"}]}'))).toBe('$.a[1].b');
    expect(findUnstorableString(JSON.parse('{"\\udc00":1}'))).toBe('$');
    expect(findUnstorableString(JSON.parse('{"email":"a\\u0000@example.org"}'))).toBe('$.email');
  });

  it('accepts whole pairs, Chinese text and everything else', () => {
    expect(findUnstorableString(JSON.parse('{"name":"李梅 \\ud83d\\ude00","n":1,"x":null,"y":[true]}'))).toBeNull();
    expect(findUnstorableString('𠀋')).toBeNull();
  });
});

describe('findLongArray', () => {
  it('names the first array longer than the limit, at any depth', () => {
    expect(findLongArray({ a: { b: [1, 2, 3] } }, 2)).toBe('$.a.b');
    expect(findLongArray([[1], [1, 2, 3]], 2)).toBe('$[1]');
    expect(findLongArray({ household: { statusFlags: new Array(MAX_JSON_ARRAY_ITEMS + 1).fill('dibao') } })).toBe('$.household.statusFlags');
  });

  it('accepts arrays up to the limit, and everything that is not an array', () => {
    expect(findLongArray({ a: new Array(MAX_JSON_ARRAY_ITEMS).fill(0), b: 'x'.repeat(50_000), c: null })).toBeNull();
    expect(findLongArray('text')).toBeNull();
  });
});
