import fc from 'fast-check';
import {
  assessMeans,
  isCompleteAssessmentInput,
  MeansAssessmentInput,
  missingAssessmentInputs,
} from 'src/assessment/means-assessment';
import { DEFAULT_MEANS_POLICY, MeansPolicy, TREATMENT_PLANS } from 'src/assessment/means-policy';

/** DESIGN.md's worked example: rural family of 4 in a region without its own row, so d = 59390 (national rural). */
const workedExample: MeansAssessmentInput = {
  householdSize: 4,
  annualIncome: 4_800_000,
  liquidAssets: 1_000_000,
  debts: 0,
  statusFlags: [],
  estimatedCost: 40_000_000,
  expectedReimbursement: 22_000_000,
  otherAid: 0,
  treatmentPlan: 'hsct',
  region: 'CN-GS',
  hukouType: 'rural',
  ownsVehicle: false,
  ownsExtraProperty: false,
  patientAgeYears: 7,
  hasOtherOpenApplication: false,
};

// With d = 59390 and n = 4: 12·n·d = 2,850,720 and 1.5 times that = 4,276,080.
const TWELVE_N_D = 2_850_720;
const ONE_AND_HALF_TWELVE_N_D = 4_276_080;

/** A family without assets whose out-of-pocket cost is `outOfPocket` and whose annual income is `annualIncome`. */
function family(annualIncome: number, outOfPocket: number, overrides: Partial<MeansAssessmentInput> = {}) {
  return { ...workedExample, annualIncome, liquidAssets: 0, estimatedCost: outOfPocket, expectedReimbursement: 0, ...overrides };
}

function withPolicy(changes: (policy: MeansPolicy) => void): MeansPolicy {
  const policy = structuredClone(DEFAULT_MEANS_POLICY);
  changes(policy);
  return policy;
}

const assess = (input: MeansAssessmentInput, policy = DEFAULT_MEANS_POLICY) => assessMeans(input, policy);

describe('assessMeans', () => {
  describe('the worked example of DESIGN.md', () => {
    const result = assess(workedExample);

    it('computes every intermediate amount exactly', () => {
      expect(result).toMatchObject({
        outOfPocket: 18_000_000,
        subsistence: 2_850_720,
        countableAssets: 0,
        capacityToPay: 1_949_280,
        burdenRatio: 9.2342,
        monthlyPerCapitaIncome: 100_000,
        tier: 'B',
      });
      expect(result.minimumLivingStandard).toMatchObject({ region: 'CN', hukouType: 'rural', monthlyAmount: 59_390 });
    });

    it('recommends the hsct cap', () => {
      expect(result.recommendedAmount).toBe(10_000_000);
      expect(result.manualReviewReasons).toEqual([]);
    });

    it('would recommend 0.85 × 17,220,288 rounded down to ¥100 without the cap', () => {
      const uncapped = withPolicy((policy) => (policy.caps.hsct = 1_000_000_000));
      // 0.85 × 17,220,288 = 14,637,244.8
      expect(assess(workedExample, uncapped).recommendedAmount).toBe(14_630_000);
    });
  });

  describe('minimum living standard', () => {
    it('uses the regional row when the policy has one', () => {
      const result = assess({ ...workedExample, region: 'CN-SH', hukouType: 'urban' });
      expect(result.minimumLivingStandard).toMatchObject({ region: 'CN-SH', monthlyAmount: 133_000 });
      expect(result.subsistence).toBe(12 * 4 * 133_000);
    });

    it('falls back to the national row for the same hukou type', () => {
      expect(assess({ ...workedExample, hukouType: 'urban' }).minimumLivingStandard).toMatchObject({
        region: 'CN',
        hukouType: 'urban',
        monthlyAmount: 79_810,
      });
    });

    it('refuses a policy without the national fallback', () => {
      const broken = withPolicy((policy) => {
        policy.minimumLivingStandards = policy.minimumLivingStandards.filter((row) => row.hukouType !== 'rural');
      });
      expect(() => assess(workedExample, broken)).toThrow(/national minimum living standard for rural/);
    });
  });

  describe('countable assets', () => {
    it('protects six months of the minimum living standard per person and subtracts debts', () => {
      // 6·4·59390 = 1,425,360 protected
      const result = assess({ ...workedExample, liquidAssets: 2_000_000, debts: 74_640 });
      expect(result.countableAssets).toBe(500_000);
      expect(result.capacityToPay).toBe(1_949_280 + 500_000);
    });

    it('is never negative', () => {
      expect(assess({ ...workedExample, liquidAssets: 0, debts: 9_000_000 }).countableAssets).toBe(0);
    });
  });

  describe('tier A', () => {
    it('holds when monthly per-capita income is exactly the standard', () => {
      expect(assess(family(TWELVE_N_D, 10_000_000))).toMatchObject({ tier: 'A', monthlyPerCapitaIncome: 59_390 });
    });

    it('stops one fen above, and the figure shown says it is above', () => {
      // 59,390 and 1/48 fen a month: rounded down it would read as the standard itself beside tier B.
      expect(assess(family(TWELVE_N_D + 1, 10_000_000))).toMatchObject({ tier: 'B', monthlyPerCapitaIncome: 59_391 });
    });

    it('holds for any status flag whatever the income', () => {
      expect(assess(family(100_000_000, 10_000_000, { statusFlags: ['tekun'] })).tier).toBe('A');
    });

    it('gives a flagged family the full share of the gap', () => {
      // Y = 6,000,000 → CTP = 3,149,280 → gap = 10,000,000 − 1,259,712 = 8,740,288
      const withoutFlag = assess(family(6_000_000, 10_000_000));
      const withFlag = assess(family(6_000_000, 10_000_000, { statusFlags: ['dibao'] }));
      expect(withoutFlag).toMatchObject({ tier: 'B', recommendedAmount: 7_420_000 });
      expect(withFlag).toMatchObject({ tier: 'A', recommendedAmount: 8_740_000 });
    });

    it('pays the full gap', () => {
      // CTP = 0, so gap = OOP = 1,234,599 → rounded down to 1,230,000
      expect(assess(family(TWELVE_N_D, 1_234_599)).recommendedAmount).toBe(1_230_000);
    });
  });

  describe('tier B by income', () => {
    // OOP 500,000 keeps the burden under 0.4 so only the income rule decides.
    it('holds at exactly 1.5 times the standard', () => {
      expect(assess(family(ONE_AND_HALF_TWELVE_N_D, 500_000)).tier).toBe('B');
    });

    it('stops one fen above', () => {
      expect(assess(family(ONE_AND_HALF_TWELVE_N_D + 1, 500_000)).tier).toBe('ineligible');
    });
  });

  describe('burden thresholds', () => {
    // Y = 6,000,000 → CTP = 3,149,280; 0.4 · CTP = 1,259,712.
    const income = 6_000_000;
    const capacityToPay = 3_149_280;

    it('B exactly 1 is tier B', () => {
      const result = assess(family(income, capacityToPay));
      expect(result).toMatchObject({ tier: 'B', burdenRatio: 1 });
      // 0.85 × (3,149,280 − 1,259,712) = 1,606,132.8
      expect(result.recommendedAmount).toBe(1_600_000);
    });

    it('B just below 1 is tier C, and the ratio shown is below 1 too (never rounded up to a threshold it missed)', () => {
      const result = assess(family(income, capacityToPay - 1));
      expect(result.tier).toBe('C');
      expect(result.burdenRatio).toBe(0.9999);
      // 0.7 × (3,149,279 − 1,259,712) = 1,322,696.9
      expect(result.recommendedAmount).toBe(1_320_000);
    });

    it('B exactly 0.4 is tier C with nothing left to pay', () => {
      const result = assess(family(income, 1_259_712));
      expect(result).toMatchObject({ tier: 'C', burdenRatio: 0.4, recommendedAmount: 0 });
    });

    it('B just below 0.4 is ineligible and recommends 0', () => {
      const result = assess(family(income, 1_259_711));
      expect(result).toMatchObject({ tier: 'ineligible', burdenRatio: 0.3999, recommendedAmount: 0 });
    });
  });

  describe('capacity to pay of zero', () => {
    it('has a null burden ratio', () => {
      const result = assess(family(1_000_000, 3_000_000));
      expect(result).toMatchObject({ capacityToPay: 0, burdenRatio: null, tier: 'A', recommendedAmount: 3_000_000 });
    });

    it('counts as unbounded burden, so tier B when the income rules do not apply', () => {
      const strictIncome = withPolicy((policy) => {
        policy.thresholds.tierAIncomeMultiple = '0.5';
        policy.thresholds.tierBIncomeMultiple = '0.6';
      });
      const result = assess(family(TWELVE_N_D, 300_000), strictIncome);
      expect(result).toMatchObject({ capacityToPay: 0, burdenRatio: null, tier: 'B', recommendedAmount: 250_000 });
    });
  });

  describe('caps', () => {
    it.each([
      ['hsct', 10_000_000],
      ['ist', 5_000_000],
      ['supportive', 2_000_000],
    ] as const)('caps %s at %i', (treatmentPlan, cap) => {
      expect(assess(family(0, 50_000_000, { treatmentPlan })).recommendedAmount).toBe(cap);
    });

    it('rounds a cap that is not a multiple of ¥100 down', () => {
      const oddCap = withPolicy((policy) => (policy.caps.ist = 5_000_050));
      expect(assess(family(0, 50_000_000, { treatmentPlan: 'ist' }), oddCap).recommendedAmount).toBe(5_000_000);
    });
  });

  describe('out-of-pocket', () => {
    it('subtracts reimbursement and other aid and is never negative', () => {
      const result = assess({ ...workedExample, expectedReimbursement: 30_000_000, otherAid: 15_000_000 });
      expect(result.outOfPocket).toBe(0);
      expect(result.recommendedAmount).toBe(0);
    });
  });

  describe('manual review', () => {
    const reasonsOf = (overrides: Partial<MeansAssessmentInput>, policy = DEFAULT_MEANS_POLICY) =>
      assess({ ...workedExample, ...overrides }, policy).manualReviewReasons;

    it('flags a vehicle', () => expect(reasonsOf({ ownsVehicle: true })).toEqual(['owns_vehicle']));
    it('flags extra property', () => expect(reasonsOf({ ownsExtraProperty: true })).toEqual(['owns_extra_property']));
    it('flags another open application for the same child', () =>
      expect(reasonsOf({ hasOtherOpenApplication: true })).toEqual(['duplicate_child_application']));

    it('flags an out-of-pocket cost below ¥5,000 but not at ¥5,000', () => {
      expect(reasonsOf({ estimatedCost: 22_499_999 })).toEqual(['low_out_of_pocket']);
      expect(reasonsOf({ estimatedCost: 22_500_000 })).toEqual([]);
    });

    it('flags a patient older than 18 but not one of 18', () => {
      expect(reasonsOf({ patientAgeYears: 19 })).toEqual(['patient_over_age']);
      expect(reasonsOf({ patientAgeYears: 18 })).toEqual([]);
      expect(reasonsOf({ patientAgeYears: undefined })).toEqual([]);
    });

    it('respects switched-off rules', () => {
      const lenient = withPolicy((policy) => {
        policy.manualReview.flagVehicle = false;
        policy.manualReview.flagExtraProperty = false;
        policy.manualReview.flagOtherOpenApplication = false;
      });
      expect(reasonsOf({ ownsVehicle: true, ownsExtraProperty: true, hasOtherOpenApplication: true }, lenient)).toEqual([]);
    });

    it('never changes the tier or the amount', () => {
      const flagged = assess({ ...workedExample, ownsVehicle: true, ownsExtraProperty: true, hasOtherOpenApplication: true });
      expect(flagged).toMatchObject({ tier: 'B', recommendedAmount: 10_000_000 });
    });
  });

  describe('input checks', () => {
    it.each([
      { householdSize: 0 },
      { householdSize: 2.5 },
      { annualIncome: -1 },
      { debts: 1.5 },
      { estimatedCost: Number.MAX_SAFE_INTEGER + 1 },
    ])('refuses %p', (bad) => {
      expect(() => assess({ ...workedExample, ...bad })).toThrow(RangeError);
    });
  });

  describe('properties', () => {
    const fen = fc.integer({ min: 0, max: 10_000_000_000 });
    const inputs = fc.record({
      householdSize: fc.integer({ min: 1, max: 12 }),
      annualIncome: fen,
      liquidAssets: fen,
      debts: fen,
      statusFlags: fc.subarray(['dibao', 'tekun', 'low_income_edge', 'monitored', 'orphan']),
      estimatedCost: fen,
      expectedReimbursement: fen,
      otherAid: fen,
      treatmentPlan: fc.constantFrom(...TREATMENT_PLANS),
      region: fc.constantFrom('CN-SH', 'CN-GS', 'CN-BJ'),
      hukouType: fc.constantFrom('urban' as const, 'rural' as const),
      ownsVehicle: fc.boolean(),
      ownsExtraProperty: fc.boolean(),
      hasOtherOpenApplication: fc.boolean(),
    });

    it('recommends a non-negative multiple of ¥100 within the cap and the out-of-pocket cost', () => {
      fc.assert(
        fc.property(inputs, (input) => {
          const result = assess(input);
          const amount = result.recommendedAmount;
          expect(amount).toBeGreaterThanOrEqual(0);
          expect(amount % 10_000).toBe(0);
          expect(amount).toBeLessThanOrEqual(DEFAULT_MEANS_POLICY.caps[input.treatmentPlan]);
          expect(amount).toBeLessThanOrEqual(result.outOfPocket);
          if (result.tier === 'ineligible') expect(amount).toBe(0);
        }),
        { numRuns: 500 },
      );
    });

    it('never recommends more when the annual income rises', () => {
      fc.assert(
        fc.property(inputs, fen, fen, (input, first, second) => {
          const [lower, higher] = first <= second ? [first, second] : [second, first];
          const poorer = assess({ ...input, annualIncome: lower });
          const richer = assess({ ...input, annualIncome: higher });
          expect(richer.recommendedAmount).toBeLessThanOrEqual(poorer.recommendedAmount);
        }),
        { numRuns: 500 },
      );
    });
  });
});

describe('missingAssessmentInputs', () => {
  it('is empty for a complete input, where patientAgeYears is optional', () => {
    const { patientAgeYears: _omitted, ...complete } = workedExample;
    expect(missingAssessmentInputs(complete)).toEqual([]);
    expect(isCompleteAssessmentInput(complete)).toBe(true);
  });

  it('names what a draft still lacks, counting null as missing', () => {
    const draft: Partial<MeansAssessmentInput> = { ...workedExample, annualIncome: undefined, region: null as unknown as string };
    delete draft.statusFlags;
    expect(missingAssessmentInputs(draft)).toEqual(['annualIncome', 'statusFlags', 'region']);
    expect(isCompleteAssessmentInput(draft)).toBe(false);
  });

  it('names every field of an empty draft', () => {
    expect(missingAssessmentInputs({})).toHaveLength(14);
  });
});
