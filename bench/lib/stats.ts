/** Small, pure numeric helpers of the harness: percentiles, ratios, verdicts. */

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (!samples.length) return Number.NaN;
  if (p < 0 || p > 100) throw new RangeError(`percentile ${p} is not in 0..100`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** figure / floor, or null when either is missing or the floor is not positive. */
export function ratio(figure: number | null | undefined, floor: number | null | undefined): number | null {
  if (figure == null || floor == null || !Number.isFinite(figure) || !Number.isFinite(floor) || floor <= 0) return null;
  return figure / floor;
}

/** A target is either "at least this share of the floor", "at most this many units", or "at least this many units". */
export type Target =
  | { kind: 'minRatio'; value: number }
  | { kind: 'max'; value: number; unit: string }
  | { kind: 'min'; value: number; unit: string }
  | { kind: 'none' };

export type Verdict = 'PASS' | 'MISS' | 'INFO' | 'ERROR';

/** PASS/MISS against the target; ERROR when the figure needed for the judgement is missing. */
export function verdict(target: Target, figure: number | null, floorRatio: number | null, errored = false): Verdict {
  if (errored) return 'ERROR';
  switch (target.kind) {
    case 'none':
      return 'INFO';
    case 'minRatio':
      if (floorRatio == null) return 'ERROR';
      return floorRatio >= target.value ? 'PASS' : 'MISS';
    case 'max':
      if (figure == null || !Number.isFinite(figure)) return 'ERROR';
      return figure < target.value ? 'PASS' : 'MISS';
    case 'min':
      if (figure == null || !Number.isFinite(figure)) return 'ERROR';
      return figure >= target.value ? 'PASS' : 'MISS';
  }
}

export function describeTarget(target: Target): string {
  switch (target.kind) {
    case 'none':
      return '—';
    case 'minRatio':
      return `≥ ${Math.round(target.value * 100)}% of floor`;
    case 'max':
      return `< ${formatNumber(target.value)} ${target.unit}`;
    case 'min':
      return `≥ ${formatNumber(target.value)} ${target.unit}`;
  }
}

/** Human figures: integers get thousands separators, small numbers keep 1–2 decimals. */
export function formatNumber(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatRatio(value: number | null): string {
  return value == null ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}
