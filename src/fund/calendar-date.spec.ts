import { FUND_TIME_ZONE, isCalendarDate, todayIn } from 'src/fund/calendar-date';

describe('calendar dates', () => {
  it.each(['2024-02-29', '2025-12-31', '2000-01-01'])('accepts the real date %s', (value) => {
    expect(isCalendarDate(value)).toBe(true);
  });

  it.each(['2025-02-29', '2025-13-01', '2025-04-31', '2025-1-01', '2025-01-01T00:00:00Z', '20250101', '', 20250101, null])(
    'refuses %p',
    (value) => {
      expect(isCalendarDate(value)).toBe(false);
    },
  );

  it('takes today in Shanghai, which runs eight hours ahead of UTC', () => {
    expect(todayIn(FUND_TIME_ZONE, new Date('2026-03-01T15:59:59Z'))).toBe('2026-03-01');
    expect(todayIn(FUND_TIME_ZONE, new Date('2026-03-01T16:00:00Z'))).toBe('2026-03-02');
    expect(todayIn('UTC', new Date('2026-03-01T16:00:00Z'))).toBe('2026-03-01');
  });
});
