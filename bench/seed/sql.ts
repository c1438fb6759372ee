/** Small pure helpers that write SQL fragments for the generator (tested in seed.spec.ts). */
import { SeedPlan, SegmentName } from './plan';

/** `CASE WHEN i <= 10 THEN 'completed' … END` mapping an application number to its segment name. */
export function segmentCase(plan: SeedPlan, column = 'i'): string {
  const whens = plan.segments.map((s) => `WHEN ${column} <= ${s.last} THEN '${s.name}'`).join(' ');
  return `(CASE ${whens} END)`;
}

/** `(i BETWEEN a AND b OR …)` for the named segments; `false` when none. */
export function inSegments(plan: SeedPlan, names: readonly SegmentName[], column = 'i'): string {
  const parts = plan.segments.filter((s) => names.includes(s.name)).map((s) => `${column} BETWEEN ${s.first} AND ${s.last}`);
  return parts.length ? `(${parts.join(' OR ')})` : 'false';
}

export function sqlText(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function sqlTextArray(values: readonly string[]): string {
  return `ARRAY[${values.map(sqlText).join(',')}]::text[]`;
}
