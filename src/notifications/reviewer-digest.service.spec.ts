import { localDay } from 'src/notifications/reviewer-digest.service';

describe('localDay', () => {
  it('is the calendar day in the fund’s time zone, not UTC', () => {
    expect(localDay(new Date('2026-09-01T16:30:00Z'), 'Asia/Shanghai')).toBe('2026-09-02');
    expect(localDay(new Date('2026-09-01T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-09-01');
    expect(localDay(new Date('2026-09-01T00:00:00Z'), 'UTC')).toBe('2026-09-01');
  });
});
