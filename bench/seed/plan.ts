/**
 * How many rows of what a seed of a given scale holds (pure; `bench/seed/seed.ts` writes it).
 *
 * Applications are numbered 1..N oldest first; their reference serial is the number, as the application's
 * sequence would have given it. Status segments follow age: the oldest are finished, the newest are drafts —
 * which also keeps every grant (tranche references take a 6-digit serial, see tranche-reference.ts) below
 * serial 1,000,000.
 */

export const GENERATOR_VERSION = 3;

export const STATUS_SEGMENTS = [
  // [status, share of N, what it has]
  ['completed', 0.18],
  ['rejected', 0.07],
  ['withdrawn', 0.04],
  ['cancelled', 0.01],
  ['disbursing_recon', 0.2], // disbursing at the reconciliation hospital, one paid tranche each (scenario 5)
  ['disbursing', 0.03],
  ['approved', 0.06],
  ['awaiting_second_approval', 0.01],
  ['info_requested', 0.02],
  ['under_review', 0.05],
  ['submitted', 0.25],
  ['draft', 0.08],
] as const;

export type SegmentName = (typeof STATUS_SEGMENTS)[number][0];
export type Segment = { name: SegmentName; status: string; first: number; last: number; count: number };

export const GRANT_SEGMENTS: readonly SegmentName[] = ['completed', 'cancelled', 'disbursing_recon', 'disbursing', 'approved', 'awaiting_second_approval'];
export const TRANCHE_SEGMENTS: readonly SegmentName[] = ['completed', 'cancelled', 'disbursing_recon', 'disbursing', 'approved'];
export const PAID_SEGMENTS: readonly SegmentName[] = ['completed', 'disbursing_recon', 'disbursing'];
export const MAX_TRANCHE_SERIAL = 999_999;

export type SeedPlan = {
  scale: number;
  applications: number;
  hospitals: number;
  applicants: number;
  reviewers: number;
  fundFinance: number;
  contributions: number;
  statementEntries: number;
  /** Paid tranches of the reconciliation hospital (hospital 1), one statement entry each in scenario 5. */
  reconTranches: number;
  profiles: number;
  segments: Segment[];
};

export function planSeed(scale: number): SeedPlan {
  if (!(scale > 0)) throw new RangeError('scale must be positive');
  const applications = Math.max(STATUS_SEGMENTS.length * 4, Math.round(1_000_000 * scale));
  const counts = STATUS_SEGMENTS.map(([, share]) => Math.max(2, Math.floor(applications * share)));
  // Whatever rounding left over (or took) goes to the drafts, the newest.
  counts[counts.length - 1] += applications - counts.reduce((a, b) => a + b, 0);
  if (counts[counts.length - 1] < 1) throw new RangeError(`scale ${scale} is too small`);
  let next = 1;
  const segments: Segment[] = STATUS_SEGMENTS.map(([name], index) => {
    const seg = { name, status: name === 'disbursing_recon' ? 'disbursing' : name, first: next, last: next + counts[index] - 1, count: counts[index] };
    next += counts[index];
    return seg;
  });
  const lastGrant = Math.max(...segments.filter((s) => TRANCHE_SEGMENTS.includes(s.name)).map((s) => s.last));
  if (lastGrant > MAX_TRANCHE_SERIAL) {
    throw new RangeError(`scale ${scale}: application ${lastGrant} would need a tranche, but tranche references take a 6-digit serial`);
  }
  const completed = segments.find((s) => s.name === 'completed')!.count;
  return {
    scale,
    applications,
    hospitals: Math.max(2, Math.round(200 * scale)),
    applicants: Math.max(2, Math.round(applications * 0.9)),
    reviewers: Math.max(4, Math.round(200 * scale)),
    fundFinance: 2,
    contributions: Math.max(4, Math.round(20_000 * scale)),
    statementEntries: Math.min(completed, Math.max(2, Math.round(50_000 * scale))),
    reconTranches: segments.find((s) => s.name === 'disbursing_recon')!.count,
    profiles: 997,
    segments,
  };
}

export function segmentOf(plan: SeedPlan, i: number): Segment {
  const seg = plan.segments.find((s) => i >= s.first && i <= s.last);
  if (!seg) throw new RangeError(`application ${i} is outside 1..${plan.applications}`);
  return seg;
}

/** The reviewer queue's deep page at this scale: page 10,000 at scale 1, never past the queue's end. */
export function deepQueuePage(plan: SeedPlan, pageSize = 20): number {
  const queue = plan.segments.find((s) => s.name === 'submitted')!.count;
  const lastFull = Math.max(1, Math.floor(queue / pageSize) - 1);
  return Math.max(1, Math.min(lastFull, Math.round(10_000 * plan.scale)));
}

/** Application reference as ApplicationRecords.nextReference writes it. */
export function applicationReference(year: number, serial: number): string {
  return `SPR-${year}-${String(serial).padStart(6, '0')}`;
}
