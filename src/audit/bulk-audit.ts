import { randomUUID } from 'node:crypto';
import { AuditContent, canonicalJson } from 'src/audit/audit-hash';

/**
 * The SQL expression of an audit event's canonical JSON (what AuditService.record stores in audit_pending.canonical
 * and the chain hashes), for many events that differ only in a few per-row values. The fixed part of the content is
 * serialized once by canonicalJson() itself; every per-row value is a slot, filled in SQL with to_json(<expr>)::text.
 *
 * Slots may only hold values whose JSON PostgreSQL and JavaScript write identically: uuids, Sprout references
 * (SPR-YYYY-NNNNNN-K, pinned by a CHECK on disbursements) and integers. The unit test of this file compares the
 * result with canonicalJson() row by row.
 */
export function canonicalSql(content: AuditContent, slots: Record<string, string>): { sql: string; params: string[] } {
  const marker = `@${randomUUID()}@`;
  const tokens = new Map<string, string>();
  const withMarkers = (value: unknown): unknown => {
    if (typeof value === 'string' && Object.hasOwn(slots, value)) {
      const token = `${marker}${tokens.size}`;
      tokens.set(token, slots[value]);
      return token;
    }
    if (Array.isArray(value)) return value.map(withMarkers);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withMarkers(v)]));
    return value;
  };
  const text = canonicalJson(withMarkers(content));
  // Each token appears once, quoted: "<marker><n>". Everything between tokens is a constant, passed as a parameter.
  const pieces = text.split(new RegExp(`"(${escapeRegExp(marker)}\\d+)"`));
  const params: string[] = [];
  const sql: string[] = [];
  pieces.forEach((piece, i) => {
    if (i % 2 === 1) {
      sql.push(`to_json(${tokens.get(piece)})::text`);
    } else if (piece) {
      params.push(piece);
      sql.push(`$${params.length}::text`);
    }
  });
  if (pieces.length !== tokens.size * 2 + 1) throw new Error('an audit slot was not serialized as a JSON string');
  return { sql: sql.join(' || '), params };
}

/** Placeholder values for canonicalSql: `slot('d.id')` in the content becomes to_json(d.id)::text. */
export function slot(expression: string): string {
  return `\u0001slot:${expression}`;
}

export function slotsOf(...expressions: string[]): Record<string, string> {
  return Object.fromEntries(expressions.map((e) => [slot(e), e]));
}

/** Shifts $n placeholders of `sql` by `offset`, to put it after other parameters. */
export function shiftParams(sql: string, offset: number): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
