import Decimal from 'decimal.js';
import { FieldError } from 'src/common/problem/problem.exception';

/**
 * The means-test policy as plain JSON data: stored as a versioned jsonb row and edited by admins.
 * Money is integer fen; ratios and multiples are decimal strings so they survive JSON exactly.
 */
export type HukouType = 'urban' | 'rural';
export type TreatmentPlan = 'hsct' | 'ist' | 'supportive';
export type GrantTier = 'A' | 'B' | 'C';

export const HUKOU_TYPES: readonly HukouType[] = ['urban', 'rural'];
export const TREATMENT_PLANS: readonly TreatmentPlan[] = ['hsct', 'ist', 'supportive'];
export const GRANT_TIERS: readonly GrantTier[] = ['A', 'B', 'C'];

/** Region code of the national fallback rows. */
export const NATIONAL_REGION = 'CN';

export interface MinimumLivingStandard {
  /** ISO 3166-2:CN code such as "CN-SH", or "CN" for the national fallback. */
  region: string;
  hukouType: HukouType;
  /** Fen per person per month. */
  monthlyAmount: number;
  source: string;
  /** YYYY-MM-DD */
  effectiveFrom: string;
}

export interface MeansThresholds {
  /** Tier A when monthly per-capita income ≤ this multiple of the minimum living standard. */
  tierAIncomeMultiple: string;
  /** Tier B when monthly per-capita income ≤ this multiple of the minimum living standard… */
  tierBIncomeMultiple: string;
  /** …or when the burden ratio OOP / CTP is at least this. */
  tierBBurden: string;
  /** Tier C when the burden ratio is at least this (WHO catastrophic health expenditure: 40 %). */
  tierCBurden: string;
  /** Part of the capacity to pay the family is expected to contribute before the fund pays. */
  capacityToPayShareDeducted: string;
  /** Months of minimum living standard protected from income (subsistence S). */
  subsistenceMonths: number;
  /** Months of minimum living standard protected from liquid assets. */
  assetProtectionMonths: number;
  /** Recommended amounts are rounded down to a multiple of this (fen). */
  roundingUnit: number;
}

export interface ManualReviewRules {
  /** Out-of-pocket below this (fen) is flagged. */
  minimumOutOfPocket: number;
  /** A patient older than this (completed years at first application) is flagged. */
  maxPatientAgeYears: number;
  flagVehicle: boolean;
  flagExtraProperty: boolean;
  flagOtherOpenApplication: boolean;
}

export interface TrancheSplit {
  label: string;
  /** Decimal string; the shares of one plan sum to exactly 1. */
  share: string;
}

export interface MeansPolicy {
  minimumLivingStandards: MinimumLivingStandard[];
  shares: Record<GrantTier, string>;
  /** Fen. */
  caps: Record<TreatmentPlan, number>;
  thresholds: MeansThresholds;
  manualReview: ManualReviewRules;
  tranches: Record<TreatmentPlan, TrancheSplit[]>;
}

const NATIONAL_BULLETIN_2024 =
  'Ministry of Civil Affairs, 2024 Statistical Bulletin on the Development of Civil Affairs ' +
  '(2024年民政事业发展统计公报): national average minimum living standard at the end of 2024';

// Shanghai has one standard for urban and rural hukou. This is the last figure checked against a
// published source; later raises exist, so admins should replace it with the current one.
const SHANGHAI_2021 =
  'Shanghai Civil Affairs Bureau, announced 2021-06-24 (Shanghai Daily): 1,330 yuan per person per month from July 2021';

export const DEFAULT_MEANS_POLICY: MeansPolicy = {
  minimumLivingStandards: [
    { region: 'CN', hukouType: 'urban', monthlyAmount: 79810, source: NATIONAL_BULLETIN_2024, effectiveFrom: '2024-12-31' },
    { region: 'CN', hukouType: 'rural', monthlyAmount: 59390, source: NATIONAL_BULLETIN_2024, effectiveFrom: '2024-12-31' },
    { region: 'CN-SH', hukouType: 'urban', monthlyAmount: 133000, source: SHANGHAI_2021, effectiveFrom: '2021-07-01' },
    { region: 'CN-SH', hukouType: 'rural', monthlyAmount: 133000, source: SHANGHAI_2021, effectiveFrom: '2021-07-01' },
  ],
  shares: { A: '1', B: '0.85', C: '0.7' },
  caps: { hsct: 10_000_000, ist: 5_000_000, supportive: 2_000_000 },
  thresholds: {
    tierAIncomeMultiple: '1',
    tierBIncomeMultiple: '1.5',
    tierBBurden: '1',
    tierCBurden: '0.4',
    capacityToPayShareDeducted: '0.4',
    subsistenceMonths: 12,
    assetProtectionMonths: 6,
    roundingUnit: 10_000,
  },
  manualReview: {
    minimumOutOfPocket: 500_000,
    maxPatientAgeYears: 18,
    flagVehicle: true,
    flagExtraProperty: true,
    flagOtherOpenApplication: true,
  },
  tranches: {
    hsct: [{ label: 'full', share: '1' }],
    ist: [{ label: 'full', share: '1' }],
    supportive: [{ label: 'full', share: '1' }],
  },
};

/**
 * The standard for the patient's region and hukou type, else the national one for that hukou type: of each, the one in
 * force on `asOf` (China date, YYYY-MM-DD), i.e. the latest `effectiveFrom` not after it, so that a rate announced ahead
 * can be loaded before it starts. Without `asOf` (assessments stored before dates counted), the latest. Should no
 * national standard be in force yet, the earliest one is taken: a policy always has one, and an assessment always a
 * standard.
 */
export function findMinimumLivingStandard(
  policy: MeansPolicy,
  region: string,
  hukouType: HukouType,
  asOf?: string,
): MinimumLivingStandard {
  const of = (r: string) =>
    policy.minimumLivingStandards.filter((row) => row.region === r && row.hukouType === hukouType).sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom));
  const inForce = (rows: MinimumLivingStandard[]) => rows.filter((row) => asOf === undefined || row.effectiveFrom <= asOf).at(-1);
  const national = of(NATIONAL_REGION);
  const found = inForce(of(region)) ?? inForce(national) ?? national[0];
  if (!found) {
    throw new Error(`The means policy has no national minimum living standard for ${hukouType} hukou`);
  }
  return found;
}

/** ISO 3166-2:CN subdivision codes (2017 revision: two letters after "CN-"). */
export const CN_REGION_CODES: readonly string[] = [
  'CN-AH', 'CN-BJ', 'CN-CQ', 'CN-FJ', 'CN-GD', 'CN-GS', 'CN-GX', 'CN-GZ', 'CN-HA', 'CN-HB', 'CN-HE', 'CN-HI',
  'CN-HK', 'CN-HL', 'CN-HN', 'CN-JL', 'CN-JS', 'CN-JX', 'CN-LN', 'CN-MO', 'CN-NM', 'CN-NX', 'CN-QH', 'CN-SC',
  'CN-SD', 'CN-SH', 'CN-SN', 'CN-SX', 'CN-TJ', 'CN-TW', 'CN-XJ', 'CN-XZ', 'CN-YN', 'CN-ZJ',
];

const MAX_FEN = 1_000_000_000_000;
// Enough significant digits that sums of the longest accepted decimal strings stay exact.
const ExactDecimal = Decimal.clone({ precision: 40 });
const DECIMAL_STRING = /^(0|[1-9]\d{0,11})(\.\d{1,12})?$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

type Fail = (field: string, message: string) => void;
type Bounds = { min: number; max: number; minExclusive?: boolean };

/** Every problem of an admin-submitted policy, as `[{field, message}]`; empty when it is usable. */
export function validateMeansPolicy(value: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const fail: Fail = (field, message) => errors.push({ field, message });
  if (!isRecord(value)) return [{ field: '(body)', message: 'must be a JSON object' }];
  requireExactKeys(value, ['minimumLivingStandards', 'shares', 'caps', 'thresholds', 'manualReview', 'tranches'], '', fail);
  validateStandards(value.minimumLivingStandards, fail);
  validateShares(value.shares, fail);
  validateCaps(value.caps, fail);
  validateThresholds(value.thresholds, fail);
  validateManualReview(value.manualReview, fail);
  validateTranches(value.tranches, fail);
  return errors;
}

function validateStandards(value: unknown, fail: Fail): void {
  const path = 'minimumLivingStandards';
  if (!Array.isArray(value)) return fail(path, 'must be an array');
  const seen = new Set<string>();
  value.forEach((row: unknown, index) => {
    const at = `${path}[${index}]`;
    if (!isRecord(row)) return fail(at, 'must be an object');
    requireExactKeys(row, ['region', 'hukouType', 'monthlyAmount', 'source', 'effectiveFrom'], at, fail);
    if (row.region !== undefined && row.region !== NATIONAL_REGION && !CN_REGION_CODES.includes(row.region as string)) {
      fail(`${at}.region`, 'must be "CN" or an ISO 3166-2:CN code such as "CN-SH"');
    }
    if (row.hukouType !== undefined && !HUKOU_TYPES.includes(row.hukouType as HukouType)) {
      fail(`${at}.hukouType`, 'must be urban or rural');
    }
    checkInteger(row.monthlyAmount, `${at}.monthlyAmount`, { min: 1, max: MAX_FEN }, fail);
    checkText(row.source, `${at}.source`, 500, fail);
    if (row.effectiveFrom !== undefined && !isRealDate(row.effectiveFrom)) {
      fail(`${at}.effectiveFrom`, 'must be a real date YYYY-MM-DD');
    }
    // Several per region and hukou type, one per date it takes effect: a new rate is loaded ahead of its start.
    const key = `${String(row.region)}/${String(row.hukouType)}`;
    const dated = `${key} from ${String(row.effectiveFrom)}`;
    if (seen.has(dated)) fail(at, `duplicates the standard for ${dated}`);
    seen.add(dated);
    seen.add(key);
  });
  for (const hukouType of HUKOU_TYPES) {
    if (!seen.has(`${NATIONAL_REGION}/${hukouType}`)) fail(path, `needs a national ("CN") standard for ${hukouType} hukou`);
  }
}

function validateShares(value: unknown, fail: Fail): void {
  if (!isRecord(value)) return fail('shares', 'must be an object');
  requireExactKeys(value, GRANT_TIERS, 'shares', fail);
  const shares = GRANT_TIERS.map((tier) => checkDecimal(value[tier], `shares.${tier}`, { min: 0, max: 1 }, fail));
  // A poorer tier must never get a smaller share, so the recommendation never rises with income.
  const [a, b, c] = shares;
  if (a && b && c && (a.lessThan(b) || b.lessThan(c))) fail('shares', 'must not increase from tier A to tier C');
}

function validateCaps(value: unknown, fail: Fail): void {
  if (!isRecord(value)) return fail('caps', 'must be an object');
  requireExactKeys(value, TREATMENT_PLANS, 'caps', fail);
  for (const plan of TREATMENT_PLANS) checkInteger(value[plan], `caps.${plan}`, { min: 0, max: MAX_FEN }, fail);
}

function validateThresholds(value: unknown, fail: Fail): void {
  const path = 'thresholds';
  if (!isRecord(value)) return fail(path, 'must be an object');
  const positiveRatio: Bounds = { min: 0, max: 100, minExclusive: true };
  const decimals: Record<string, Bounds> = {
    tierAIncomeMultiple: positiveRatio,
    tierBIncomeMultiple: positiveRatio,
    tierBBurden: positiveRatio,
    tierCBurden: positiveRatio,
    capacityToPayShareDeducted: { min: 0, max: 1 },
  };
  const integers: Record<string, Bounds> = {
    subsistenceMonths: { min: 0, max: 120 },
    assetProtectionMonths: { min: 0, max: 120 },
    roundingUnit: { min: 1, max: MAX_FEN },
  };
  requireExactKeys(value, [...Object.keys(decimals), ...Object.keys(integers)], path, fail);
  const checked = Object.fromEntries(Object.entries(decimals).map(([key, bounds]) => [key, checkDecimal(value[key], `${path}.${key}`, bounds, fail)]));
  for (const [key, bounds] of Object.entries(integers)) checkInteger(value[key], `${path}.${key}`, bounds, fail);
  // Tiers are tried A, B, C: a tier B income limit below tier A's, or a tier C burden above tier B's, leaves a tier
  // that no family can reach, and the policy would still save.
  const { tierAIncomeMultiple, tierBIncomeMultiple, tierBBurden, tierCBurden } = checked;
  if (tierAIncomeMultiple && tierBIncomeMultiple?.lessThan(tierAIncomeMultiple)) {
    fail(`${path}.tierBIncomeMultiple`, 'must be at least tierAIncomeMultiple');
  }
  // Tier C is reached only by burden, so at tier B's burden or above it never is (tier B is tried first).
  if (tierBBurden && tierCBurden?.greaterThanOrEqualTo(tierBBurden)) fail(`${path}.tierCBurden`, 'must be below tierBBurden');
}

function validateManualReview(value: unknown, fail: Fail): void {
  const path = 'manualReview';
  if (!isRecord(value)) return fail(path, 'must be an object');
  const flags = ['flagVehicle', 'flagExtraProperty', 'flagOtherOpenApplication'];
  requireExactKeys(value, ['minimumOutOfPocket', 'maxPatientAgeYears', ...flags], path, fail);
  checkInteger(value.minimumOutOfPocket, `${path}.minimumOutOfPocket`, { min: 0, max: MAX_FEN }, fail);
  checkInteger(value.maxPatientAgeYears, `${path}.maxPatientAgeYears`, { min: 0, max: 150 }, fail);
  for (const flag of flags) {
    if (typeof value[flag] !== 'boolean') fail(`${path}.${flag}`, 'must be true or false');
  }
}

function validateTranches(value: unknown, fail: Fail): void {
  if (!isRecord(value)) return fail('tranches', 'must be an object');
  requireExactKeys(value, TREATMENT_PLANS, 'tranches', fail);
  for (const plan of TREATMENT_PLANS) {
    const path = `tranches.${plan}`;
    const list = value[plan];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0 || list.length > 12) {
      fail(path, 'must be an array of 1 to 12 tranches');
      continue;
    }
    const labels = new Set<string>();
    let sum: Decimal | undefined = new ExactDecimal(0);
    list.forEach((tranche: unknown, index) => {
      const at = `${path}[${index}]`;
      if (!isRecord(tranche)) return fail(at, 'must be an object');
      requireExactKeys(tranche, ['label', 'share'], at, fail);
      if (checkText(tranche.label, `${at}.label`, 50, fail)) {
        if (labels.has(tranche.label as string)) fail(`${at}.label`, 'must be unique within the plan');
        labels.add(tranche.label as string);
      }
      const share = checkDecimal(tranche.share, `${at}.share`, { min: 0, max: 1, minExclusive: true }, fail);
      sum = share && sum ? sum.plus(share) : undefined;
    });
    if (sum && !sum.equals(1)) fail(path, `shares must sum to exactly 1 (they sum to ${sum.toString()})`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireExactKeys(value: Record<string, unknown>, keys: readonly string[], path: string, fail: Fail): void {
  const join = (key: string) => (path ? `${path}.${key}` : key);
  for (const key of keys) if (value[key] === undefined) fail(join(key), 'is required');
  for (const key of Object.keys(value)) if (!keys.includes(key)) fail(join(key), 'is not an accepted field');
}

function checkInteger(value: unknown, field: string, { min, max }: Bounds, fail: Fail): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value)) return fail(field, 'must be an integer');
  if ((value as number) < min || (value as number) > max) fail(field, `must be between ${min} and ${max}`);
}

function checkDecimal(value: unknown, field: string, bounds: Bounds, fail: Fail): Decimal | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !DECIMAL_STRING.test(value)) {
    fail(field, 'must be a decimal string such as "0.85"');
    return undefined;
  }
  const decimal = new ExactDecimal(value);
  const tooLow = bounds.minExclusive ? decimal.lessThanOrEqualTo(bounds.min) : decimal.lessThan(bounds.min);
  if (tooLow || decimal.greaterThan(bounds.max)) {
    const low = bounds.minExclusive ? `greater than ${bounds.min}` : `at least ${bounds.min}`;
    fail(field, `must be ${low} and at most ${bounds.max}`);
    return undefined;
  }
  return decimal;
}

function checkText(value: unknown, field: string, maxLength: number, fail: Fail): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength) {
    fail(field, `must be a non-empty text of at most ${maxLength} characters`);
    return false;
  }
  return true;
}

function isRealDate(value: unknown): boolean {
  const match = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
