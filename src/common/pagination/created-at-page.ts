import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { Page, toPage } from 'src/common/pagination/pagination';

/**
 * Runs a list ordered by `<alias>.created_at, <alias>.id` and pages it, each row's cursor key being its created_at as
 * PostgreSQL writes it, to the microsecond. A key taken from the entity's Date is cut to the millisecond: ascending,
 * the next page began again with the last row of this one (`limit=1` never got past the first); descending, rows
 * created in the same millisecond as the page's last one (one transaction's emails, say) were skipped.
 */
export async function pageByCreatedAt<E extends ObjectLiteral & { id: string }, T>(
  query: SelectQueryBuilder<E>,
  alias: string,
  limit: number,
  map: (entity: E) => T,
): Promise<Page<T>> {
  const { raw, entities } = await query.addSelect(`${alias}.created_at::text`, `${alias}_cursor_at`).getRawAndEntities();
  const keyOf = new Map((raw as Record<string, string>[]).map((row) => [row[`${alias}_id`], row[`${alias}_cursor_at`]]));
  return toPage(entities, limit, (entity) => ({ k: keyOf.get(entity.id) as string, id: entity.id }), map);
}
