import Decimal from 'decimal.js';
import {
  findMinimumLivingStandard,
  GrantTier,
  HukouType,
  MeansPolicy,
  MinimumLivingStandard,
  TreatmentPlan,
} from 'src/assessment/means-policy';

export interface MeansAssessmentInput {
  householdSize: number;
  /** Fen, like every amount below. */
  annualIncome: number;
  liquidAssets: number;
  debts: number;
  statusFlags: string[];
  estimatedCost: number;
  expectedReimbursement: number;
  otherAid: number;
  treatmentPlan: TreatmentPlan;
  /** ISO 3166-2:CN code of the patient's region. */
  region: string;
  hukouType: HukouType;
  ownsVehicle: boolean;
  ownsExtraProperty: boolean;
  /** Completed years at the first application; without it the age rule is not checked. */
  patientAgeYears?: number;
  hasOtherOpenApplication: boolean;
}

export type MeansTier = GrantTier | 'ineligible';

export type ManualReviewReason =
  | 'owns_vehicle'
  | 'owns_extra_property'
  | 'low_out_of_pocket'
  | 'patient_over_age'
  | 'duplicate_child_application';

export interface MeansAssessment {
  tier: MeansTier;
  outOfPocket: number;
  subsistence: number;
  countableAssets: number;
  capacityToPay: number;
  /** OOP / CTP to 4 decimals; null when the capacity to pay is 0 (unbounded burden). */
  burdenRatio: number | null;
  /** Fen, rounded down. */
  monthlyPerCapitaIncome: number;
  minimumLivingStandard: MinimumLivingStandard;
  recommendedAmount: number;
  manualReviewReasons: ManualReviewReason[];
}

const MONTHS_PER_YEAR = 12;
const BURDEN_DECIMALS = 4;

// A private constructor: precision high enough that every product of fen amounts and policy
// decimals is exact, and nobody else's Decimal.set() can change our results.
const Exact = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_UP });

const REQUIRED_INPUTS: readonly (keyof MeansAssessmentInput)[] = [
  'householdSize',
  'annualIncome',
  'liquidAssets',
  'debts',
  'statusFlags',
  'estimatedCost',
  'expectedReimbursement',
  'otherAid',
  'treatmentPlan',
  'region',
  'hukouType',
  'ownsVehicle',
  'ownsExtraProperty',
  'hasOtherOpenApplication',
];

/** Names of the inputs a draft still lacks; the assessment is "incomplete" until this is empty. */
export function missingAssessmentInputs(input: Partial<MeansAssessmentInput>): string[] {
  return REQUIRED_INPUTS.filter((key) => input[key] === undefined || input[key] === null);
}

export function isCompleteAssessmentInput(input: Partial<MeansAssessmentInput>): input is MeansAssessmentInput {
  return missingAssessmentInputs(input).length === 0;
}

/**
 * The means test of DESIGN.md ("Means assessment"). It recommends; a reviewer decides, so every
 * doubtful case becomes a manual-review reason, never a rejection. `asOf`: the China date it is made on, which picks
 * the minimum living standard then in force.
 */
export function assessMeans(input: MeansAssessmentInput, policy: MeansPolicy, asOf?: string): MeansAssessment {
  assertUsableInput(input);
  const { thresholds } = policy;
  const standard = findMinimumLivingStandard(policy, input.region, input.hukouType, asOf);
  const d = new Exact(standard.monthlyAmount);
  const n = new Exact(input.householdSize);
  const income = new Exact(input.annualIncome);

  const outOfPocket = nonNegative(new Exact(input.estimatedCost).minus(input.expectedReimbursement).minus(input.otherAid));
  const subsistence = d.times(n).times(thresholds.subsistenceMonths);
  const protectedAssets = d.times(n).times(thresholds.assetProtectionMonths);
  const countableAssets = nonNegative(new Exact(input.liquidAssets).minus(input.debts).minus(protectedAssets));
  const capacityToPay = nonNegative(income.minus(subsistence)).plus(countableAssets);

  // Per-capita monthly income Y/n/12 ≤ k·d is compared as Y ≤ 12·n·k·d: no division, no rounding.
  const incomeAtMost = (multiple: string) => income.lessThanOrEqualTo(d.times(n).times(MONTHS_PER_YEAR).times(multiple));
  // B ≥ t is compared as OOP ≥ t·CTP; with CTP = 0 the burden is unbounded and every threshold is met.
  const burdenAtLeast = (threshold: string) =>
    capacityToPay.isZero() || outOfPocket.greaterThanOrEqualTo(capacityToPay.times(threshold));

  const tier: MeansTier =
    input.statusFlags.length > 0 || incomeAtMost(thresholds.tierAIncomeMultiple)
      ? 'A'
      : incomeAtMost(thresholds.tierBIncomeMultiple) || burdenAtLeast(thresholds.tierBBurden)
        ? 'B'
        : burdenAtLeast(thresholds.tierCBurden)
          ? 'C'
          : 'ineligible';

  const gap = nonNegative(outOfPocket.minus(capacityToPay.times(thresholds.capacityToPayShareDeducted)));
  const recommendedAmount =
    tier === 'ineligible'
      ? 0
      : roundDownTo(Exact.min(policy.caps[input.treatmentPlan], gap.times(policy.shares[tier])), thresholds.roundingUnit);

  const atLeast = (x: Decimal, t: Decimal.Value) => x.greaterThanOrEqualTo(t);
  const atMost = (x: Decimal, t: Decimal.Value) => x.lessThanOrEqualTo(t);
  const burdenThresholds = [thresholds.tierBBurden, thresholds.tierCBurden];
  const incomeThresholds = [thresholds.tierAIncomeMultiple, thresholds.tierBIncomeMultiple].map((k) => d.times(k));
  const shownBurden = capacityToPay.isZero()
    ? null
    : shownBeside(outOfPocket.dividedBy(capacityToPay), BURDEN_DECIMALS, Decimal.ROUND_HALF_UP, burdenThresholds, atLeast);
  const shownIncome = shownBeside(income.dividedBy(n.times(MONTHS_PER_YEAR)), 0, Decimal.ROUND_DOWN, incomeThresholds, atMost);

  return {
    tier,
    outOfPocket: toFen(outOfPocket),
    subsistence: toFen(subsistence),
    countableAssets: toFen(countableAssets),
    capacityToPay: toFen(capacityToPay),
    burdenRatio: shownBurden === null ? null : shownBurden.toNumber(),
    monthlyPerCapitaIncome: toFen(shownIncome),
    minimumLivingStandard: { ...standard },
    recommendedAmount,
    manualReviewReasons: manualReviewReasons(input, policy, toFen(outOfPocket)),
  };
}

function manualReviewReasons(input: MeansAssessmentInput, policy: MeansPolicy, outOfPocket: number): ManualReviewReason[] {
  const rules = policy.manualReview;
  const reasons: ManualReviewReason[] = [];
  if (rules.flagVehicle && input.ownsVehicle) reasons.push('owns_vehicle');
  if (rules.flagExtraProperty && input.ownsExtraProperty) reasons.push('owns_extra_property');
  if (outOfPocket < rules.minimumOutOfPocket) reasons.push('low_out_of_pocket');
  if (input.patientAgeYears !== undefined && input.patientAgeYears > rules.maxPatientAgeYears) {
    reasons.push('patient_over_age');
  }
  if (rules.flagOtherOpenApplication && input.hasOtherOpenApplication) reasons.push('duplicate_child_application');
  return reasons;
}

function assertUsableInput(input: MeansAssessmentInput): void {
  if (!Number.isSafeInteger(input.householdSize) || input.householdSize < 1) {
    throw new RangeError('householdSize must be a positive integer');
  }
  const amounts = ['annualIncome', 'liquidAssets', 'debts', 'estimatedCost', 'expectedReimbursement', 'otherAid'] as const;
  for (const key of amounts) {
    if (!Number.isSafeInteger(input[key]) || input[key] < 0) throw new RangeError(`${key} must be a non-negative integer (fen)`);
  }
}

/**
 * A figure as shown, rounded by `rounding` — unless that would carry it across a tier threshold the exact figure is on
 * the other side of (a burden of 0.39999968 shown as the 0.4 it missed, an income a fen above the standard shown as the
 * standard); then it is rounded the other way, so the figures never contradict the tier beside them.
 */
function shownBeside(exact: Decimal, places: number, rounding: Decimal.Rounding, thresholds: Decimal.Value[], meets: (x: Decimal, t: Decimal.Value) => boolean): Decimal {
  const shown = exact.toDecimalPlaces(places, rounding);
  if (thresholds.every((t) => meets(exact, t) === meets(shown, t))) return shown;
  return exact.toDecimalPlaces(places, shown.greaterThan(exact) ? Decimal.ROUND_DOWN : Decimal.ROUND_UP);
}

function nonNegative(value: Decimal): Decimal {
  return Exact.max(0, value);
}

function roundDownTo(value: Decimal, unit: number): number {
  return toFen(value.dividedToIntegerBy(unit).times(unit));
}

function toFen(value: Decimal): number {
  const fen = value.toNumber();
  if (!Number.isSafeInteger(fen)) throw new RangeError(`${value.toString()} is not a safe integer amount of fen`);
  return fen;
}
