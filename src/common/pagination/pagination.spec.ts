import { decodeCursor, encodeCursor, pageOfList, PageQueryDto } from 'src/common/pagination/pagination';

const ID = '6f1c2b9e-3c1d-4a8e-9b7a-2f4d5e6a7b8c';
const cursor = (k: unknown, id: unknown = ID) => Buffer.from(JSON.stringify({ k, id })).toString('base64url');

describe('decodeCursor', () => {
  it('reads back the cursors the lists write, for each kind of key', () => {
    for (const [k, kind] of [
      ['2026-11-22T07:13:00.123Z', 'timestamp'],
      ['2026-11-22T07:13:00.123456Z', 'timestamp'],
      ['2026-11-22 07:13:00.123456+00', 'timestamp'],
      ['2026-11-22 07:13:00+08:00', 'timestamp'],
      ['2026-11-22 07:13:00-15:59', 'timestamp'],
      ['2026-02-28', 'date'],
      ['42', 'integer'],
      ['9007199254740993', 'bigint'],
      ['H-001 west', 'text'],
    ] as const) {
      expect(decodeCursor(encodeCursor({ k, id: ID }), kind)).toEqual({ k, id: ID });
    }
  });

  it('answers no cursor with null', () => {
    expect(decodeCursor(undefined, 'timestamp')).toBeNull();
    expect(decodeCursor('', 'timestamp')).toBeNull();
  });

  // Each of these reached PostgreSQL as a cast error (a 500) before keys were checked by kind.
  it.each([
    ['not a time', 'timestamp'],
    ['2026-02-30T00:00:00Z', 'timestamp'],
    ['2026-11-22T24:00:00Z', 'timestamp'],
    ['0000-01-01T00:00:00Z', 'timestamp'],
    ['2026-11-22', 'timestamp'],
    ['2026-01-01T00:00:00+99', 'timestamp'],
    ['2026-01-01 00:00:00-16:00', 'timestamp'],
    ['2026-01-01T00:00:00+08:60', 'timestamp'],
    ['H-001\u0000', 'text'],
    ['2026-13-01', 'date'],
    ['2026-11-22T00:00:00Z', 'date'],
    ['NaN', 'integer'],
    ['-1', 'integer'],
    ['4294967296', 'integer'],
    ['1e3', 'bigint'],
    ['99999999999999999999', 'bigint'],
  ] as const)('refuses the key %j as a %s with a 400 naming the cursor', (k, kind) => {
    expect(() => decodeCursor(cursor(k), kind)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('refuses a cursor that is not base64 JSON, has no uuid, or keys of the wrong type', () => {
    for (const bad of ['%%%', Buffer.from('[]').toString('base64url'), cursor('2026-11-22T07:13:00Z', 'x'), cursor(5), cursor('a', 7)]) {
      expect(() => decodeCursor(bad, 'text')).toThrow(expect.objectContaining({ status: 400 }));
    }
  });
});

describe('pageOfList', () => {
  // Two items in one millisecond, the later one (by the database's microseconds) with the smaller id: ordered here as
  // the cursor compares them, so a page boundary between them loses neither.
  const items = [
    { id: 'ffffffff-0000-4000-8000-000000000000', at: '2026-12-01T10:00:00.123Z' },
    { id: '00000000-0000-4000-8000-000000000000', at: '2026-12-01T10:00:00.123Z' },
    { id: '11111111-0000-4000-8000-000000000000', at: '2026-12-01T10:00:01.000Z' },
  ];
  const keyOf = (i: { id: string; at: string }) => ({ k: i.at, id: i.id });

  it('pages through every item once, however the items share a millisecond', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = pageOfList(items, Object.assign(new PageQueryDto(), { limit: 1, cursor }), keyOf);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual(items.map((i) => i.id).sort());
    expect(seen).toHaveLength(3);
  });
});
