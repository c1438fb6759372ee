import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { InvalidInputException } from 'src/common/problem/problem.exception';
import { EmptyAsAbsent } from 'src/common/validation/empty-as-absent';

export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit: number = 20;

  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page' })
  @IsOptional() @EmptyAsAbsent() @IsString() @MaxLength(512) @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not a valid cursor' })
  cursor?: string;
}

export type Page<T> = { items: T[]; nextCursor: string | null };

/** Keyset cursor: the sort key and id of the last row, opaque to clients. */
export type Keyset = { k: string; id: string };

export function encodeCursor(key: Keyset): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * What a cursor's key is compared with in SQL. A forged cursor whose key is not of its kind is a 400 here, not a
 * PostgreSQL cast error (a 500) later.
 */
export type CursorKeyKind = 'timestamp' | 'date' | 'integer' | 'bigint' | 'text';

const KEY_SHAPES: Record<CursorKeyKind, (k: string) => boolean> = {
  // ISO (toISOString) or PostgreSQL's text form (`created_at::text`: '2026-11-22 07:13:00.123456+00'); PostgreSQL
  // refuses offsets beyond ±15:59 ("time zone displacement out of range").
  timestamp: (k) => /^[1-9]\d{3}-\d{2}-\d{2}[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-](0\d|1[0-5])(:[0-5]\d)?)$/.test(k) && isCalendarDate(k.slice(0, 10)),
  date: (k) => /^[1-9]\d{3}-\d{2}-\d{2}$/.test(k) && isCalendarDate(k),
  integer: (k) => /^\d{1,9}$/.test(k),
  bigint: (k) => /^\d{1,18}$/.test(k),
  // PostgreSQL's text cannot hold NUL ("invalid byte sequence").
  text: (k) => !k.includes('\u0000'),
};

/** 2026-02-30 has the shape of a date but is none (Date would roll it over into March). */
function isCalendarDate(yyyyMmDd: string): boolean {
  const date = new Date(`${yyyyMmDd}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(yyyyMmDd);
}

export function decodeCursor(cursor: string | undefined, keyKind: CursorKeyKind): Keyset | null {
  if (!cursor) return null;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Keyset;
    if (
      typeof parsed.k === 'string' &&
      typeof parsed.id === 'string' &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(parsed.id) &&
      KEY_SHAPES[keyKind](parsed.k)
    ) {
      return parsed;
    }
  } catch {
    // fall through to the 400 below
  }
  throw new InvalidInputException([{ field: 'cursor', message: 'is not a valid cursor' }]);
}

/** Fetch limit+1 rows; the extra one only tells whether a next page exists. */
export function toPage<R, T>(rows: R[], limit: number, keyOf: (row: R) => Keyset, map: (row: R) => T): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items: items.map(map), nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}

/** PageQueryDto for the lists read whole (pageOfList): 100 by default, so a client that never pages still gets them all in the usual case. */
export class ShortListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 100 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  override limit: number = 100;
}

/**
 * A page of a short list read whole: ordered here by its keyset (`keyOf`: a timestamp, to the millisecond, and an id)
 * as the cursor compares it, then the items after the cursor's key, `limit` of them. For lists that stay short (one
 * application's decisions and questions, one reviewer's conflicts) and are paged as API.md pages every list, the same
 * `limit` and `cursor` checks included.
 */
export function pageOfList<T>(items: readonly T[], query: PageQueryDto, keyOf: (item: T) => Keyset): Page<T> {
  const keyed = items.map((item) => ({ item, at: Date.parse(keyOf(item).k), id: keyOf(item).id.toLowerCase() }));
  keyed.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const after = decodeCursor(query.cursor, 'timestamp');
  const since = after ? { at: Date.parse(after.k), id: after.id.toLowerCase() } : null;
  const rest = since ? keyed.filter((k) => k.at > since.at || (k.at === since.at && k.id > since.id)) : keyed;
  return toPage(rest.slice(0, query.limit + 1).map((k) => k.item), query.limit, keyOf, (item) => item);
}
