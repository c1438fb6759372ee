/**
 * A floor measured again right before and right after the scenario judged against it. The host's speed moves a lot
 * within minutes here (the same code's throughput moved 30–80% between runs), so a ratio against a floor measured
 * minutes earlier judges the host's moment as much as the service; against its own bracket, far less.
 */
import type { ResultRow } from '../lib/report';
import { formatNumber } from '../lib/stats';

export type FloorBracket = { before: number; after: number; floor: number; drift: number };

/** A bracket whose two ends differ by more than this share of their mean: the host changed speed during the run. */
export const UNSTEADY_DRIFT = 0.2;

/** The floor a scenario is judged against (the mean of its two ends) and how far they differ (share of the mean). */
export function bracket(before: number, after: number): FloorBracket {
  if (!(before > 0) || !(after > 0)) throw new RangeError(`a floor must be positive (before ${before}, after ${after})`);
  const floor = (before + after) / 2;
  return { before, after, floor, drift: Math.abs(after - before) / floor };
}

/**
 * The rows a scenario pushed that are judged against `floorName`, with the bracket's floor instead of the run-start
 * one, the drift in their load column, and the bracket in their note. Rows against other floors are left as they are.
 */
export function rebase(rows: readonly ResultRow[], floorName: string, b: FloorBracket, unit: string, runStart: number | null): ResultRow[] {
  const percent = Math.round(b.drift * 100);
  const about = `floor ${formatNumber(b.before)} ${unit} just before this run, ${formatNumber(b.after)} just after (${percent}% apart)${runStart == null ? '' : `; ${formatNumber(runStart)} at the run's start`}`;
  const unsteady = b.drift > UNSTEADY_DRIFT ? `; the machine's speed changed by ${percent}% during this run: its ratio is not a steady verdict` : '';
  return rows.map((row) =>
    row.floorName === floorName && row.figure != null
      ? { ...row, floor: b.floor, load: `${row.load} · floor ±${Math.round(percent / 2)}%`, note: [row.note, `${about}${unsteady}`].filter(Boolean).join('; ') }
      : row,
  );
}
