import { IsoDate } from 'src/notifications/templates/template-contexts';

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
// The fund, its hospitals and its families are in China (UTC+8, no daylight saving since 1991):
// a transfer at 2026-09-01T18:00Z happened on 2 September for everyone who reads the email.
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

/** Formats an ISO date or timestamp as `YYYY-MM-DD`; timestamps are shown as the calendar day in China. */
export function formatDate(value: IsoDate): string {
  if (typeof value === 'string' && DATE_ONLY.test(value)) {
    return assertRealDate(value);
  }
  const instant = toInstant(value);
  return new Date(instant.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/**
 * Formats a timestamp as `YYYY-MM-DD HH:mm` in China time, cut to the minute: a link that stops working at 18:30:59
 * reads 18:30, never a minute later than it works.
 */
export function formatDateTime(value: IsoDate): string {
  const instant = toInstant(value);
  return new Date(instant.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

function toInstant(value: unknown): Date {
  // A timestamp without an offset would be read in the server's own time zone, so it is refused.
  if (typeof value === 'string' && TIMESTAMP_WITH_OFFSET.test(value)) value = new Date(value);
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  throw new TypeError('date expects an ISO 8601 date or a timestamp with a time zone offset');
}

function assertRealDate(value: string): string {
  const parsed = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value) {
    throw new TypeError('date expects an existing calendar date');
  }
  return value;
}
