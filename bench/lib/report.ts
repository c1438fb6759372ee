import { describeTarget, formatNumber, formatRatio, ratio, Target, verdict, Verdict } from './stats';

/** One line of the results table. */
export type ResultRow = {
  id: string;
  scenario: string;
  metric: string;
  figure: number | null;
  unit: string;
  floorName: string | null;
  floor: number | null;
  target: Target;
  /** Measured under this load (1-minute load average at the start of the run, CPU busy % during it). */
  load: string;
  note?: string;
  errored?: boolean;
};

export type JudgedRow = ResultRow & { ratio: number | null; verdict: Verdict };

export function judge(row: ResultRow): JudgedRow {
  const r = ratio(row.figure, row.floor);
  return { ...row, ratio: r, verdict: verdict(row.target, row.figure, r, row.errored) };
}

const HEADERS = ['#', 'scenario', 'metric', 'figure', 'floor', 'ratio', 'target', 'verdict', 'load'];

function cells(row: JudgedRow): string[] {
  return [
    row.id,
    row.scenario,
    row.metric,
    row.figure == null ? 'n/a' : `${formatNumber(row.figure)} ${row.unit}`.trim(),
    row.floor == null ? '—' : `${formatNumber(row.floor)} (${row.floorName ?? ''})`,
    row.floor == null ? '—' : formatRatio(row.ratio),
    describeTarget(row.target),
    row.verdict,
    row.load,
  ];
}

export function markdownTable(rows: JudgedRow[]): string {
  const escape = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`| ${HEADERS.join(' | ')} |`, `|${HEADERS.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${cells(row).map(escape).join(' | ')} |`);
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.id}: ${r.note}`);
  return lines.join('\n') + (notes.length ? `\n\n${notes.join('\n')}` : '') + '\n';
}

/** The same table padded for a terminal. */
export function textTable(rows: JudgedRow[]): string {
  const all = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, c) => Math.max(...all.map((r) => [...r[c]].length)));
  const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - [...s].length));
  const line = (r: string[]) => r.map((s, c) => pad(s, widths[c])).join('  ').trimEnd();
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n') + '\n';
}

export function summarize(rows: JudgedRow[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { PASS: 0, MISS: 0, INFO: 0, ERROR: 0 };
  for (const row of rows) counts[row.verdict]++;
  return counts;
}
