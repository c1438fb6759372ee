import { formatDate, formatDateTime } from 'src/notifications/templates/format-date';

describe('formatDate', () => {
  it('keeps a calendar date as it is', () => {
    expect(formatDate('2026-09-01')).toBe('2026-09-01');
    expect(formatDate('2028-02-29')).toBe('2028-02-29');
  });

  it('shows a timestamp as the calendar day in China (UTC+8)', () => {
    expect(formatDate('2026-09-01T15:59:59Z')).toBe('2026-09-01');
    expect(formatDate('2026-09-01T16:00:00.000Z')).toBe('2026-09-02');
    expect(formatDate('2026-09-01T23:30:00+08:00')).toBe('2026-09-01');
    expect(formatDate('2026-12-31T20:00:00-05:00')).toBe('2027-01-01');
    expect(formatDate(new Date('2026-09-01T16:00:00Z'))).toBe('2026-09-02');
  });

  it.each([['2026-02-30'], ['2026-13-01'], ['2026-09-01T10:00:00'], ['01/09/2026'], ['yesterday'], [''], [new Date('nope')], [undefined], [1788220800000]])(
    'refuses %p',
    (value) => {
      expect(() => formatDate(value as never)).toThrow(TypeError);
    },
  );
});

describe('formatDateTime', () => {
  it('shows a timestamp in China time (UTC+8) to the minute, never later than it is', () => {
    expect(formatDateTime('2026-09-01T10:30:59.999Z')).toBe('2026-09-01 18:30');
    expect(formatDateTime('2026-09-01T16:05:00Z')).toBe('2026-09-02 00:05');
    expect(formatDateTime(new Date('2026-12-31T15:59:00Z'))).toBe('2026-12-31 23:59');
  });

  it.each([['2026-09-01'], ['2026-09-01T10:00:00'], ['soon'], [new Date('nope')], [undefined]])('refuses %p', (value) => {
    expect(() => formatDateTime(value as never)).toThrow(TypeError);
  });
});
