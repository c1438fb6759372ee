import { createHash } from 'node:crypto';

/**
 * Deterministic version-4-shaped UUIDs from (kind, n), computed the same way in SQL (bench_uuid) and here,
 * so the harness knows every seeded row's id without asking the database.
 */
export function benchUuid(kind: string, n: number | bigint): string {
  const hex = createHash('md5').update(`${kind}:${n}`).digest('hex').split('');
  hex[12] = '4'; // version
  hex[16] = '8'; // RFC 4122 variant
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const BENCH_UUID_SQL = `
CREATE OR REPLACE FUNCTION bench_uuid(kind text, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT overlay(overlay(md5(kind || ':' || n) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid
$$`;
