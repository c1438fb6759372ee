import {
  DEFAULT_MEANS_POLICY,
  findMinimumLivingStandard,
  validateMeansPolicy,
} from 'src/assessment/means-policy';

/** A deep copy of the default policy after `changes`, typed loosely so tests can break it. */
function policyWith(changes: (policy: Record<string, any>) => void): unknown {
  const policy = structuredClone(DEFAULT_MEANS_POLICY) as unknown as Record<string, any>;
  changes(policy);
  return policy;
}

const fieldsOf = (value: unknown) => validateMeansPolicy(value).map((error) => error.field);

describe('DEFAULT_MEANS_POLICY', () => {
  it('is valid', () => {
    expect(validateMeansPolicy(DEFAULT_MEANS_POLICY)).toEqual([]);
  });

  it('survives a JSON round trip unchanged (it is stored as jsonb)', () => {
    expect(JSON.parse(JSON.stringify(DEFAULT_MEANS_POLICY))).toEqual(DEFAULT_MEANS_POLICY);
  });

  it('holds the figures of DESIGN.md', () => {
    expect(DEFAULT_MEANS_POLICY.shares).toEqual({ A: '1', B: '0.85', C: '0.7' });
    expect(DEFAULT_MEANS_POLICY.caps).toEqual({ hsct: 10_000_000, ist: 5_000_000, supportive: 2_000_000 });
    expect(findMinimumLivingStandard(DEFAULT_MEANS_POLICY, 'CN', 'urban').monthlyAmount).toBe(79_810);
    expect(findMinimumLivingStandard(DEFAULT_MEANS_POLICY, 'CN', 'rural').monthlyAmount).toBe(59_390);
    for (const plan of ['hsct', 'ist', 'supportive'] as const) {
      expect(DEFAULT_MEANS_POLICY.tranches[plan]).toEqual([{ label: 'full', share: '1' }]);
    }
  });
});

describe('findMinimumLivingStandard', () => {
  it('prefers the exact region and hukou type', () => {
    expect(findMinimumLivingStandard(DEFAULT_MEANS_POLICY, 'CN-SH', 'rural').region).toBe('CN-SH');
  });

  it('falls back to the national row of the same hukou type', () => {
    expect(findMinimumLivingStandard(DEFAULT_MEANS_POLICY, 'CN-YN', 'urban')).toMatchObject({ region: 'CN', hukouType: 'urban' });
  });

  describe('with a new rate loaded ahead of the day it takes effect', () => {
    const raised = { region: 'CN-SH', hukouType: 'urban' as const, monthlyAmount: 151_000, source: 'Shanghai 2027', effectiveFrom: '2027-07-01' };
    const nationalAhead = { region: 'CN', hukouType: 'rural' as const, monthlyAmount: 61_000, source: 'Bulletin 2027', effectiveFrom: '2027-01-01' };
    const policy = { ...DEFAULT_MEANS_POLICY, minimumLivingStandards: [raised, ...DEFAULT_MEANS_POLICY.minimumLivingStandards, nationalAhead] };

    it('is valid: one standard per region, hukou type and start date', () => {
      expect(validateMeansPolicy(policy)).toEqual([]);
    });

    it('applies the rate in force on the day of the assessment, the new one from its first day', () => {
      const on = (day: string) => findMinimumLivingStandard(policy, 'CN-SH', 'urban', day).monthlyAmount;
      expect([on('2026-12-07'), on('2027-06-30'), on('2027-07-01'), on('2030-01-01')]).toEqual([133_000, 133_000, 151_000, 151_000]);
      expect(findMinimumLivingStandard(policy, 'CN-YN', 'rural', '2026-12-31').monthlyAmount).toBe(59_390);
      expect(findMinimumLivingStandard(policy, 'CN-YN', 'rural', '2027-01-01').monthlyAmount).toBe(61_000);
    });

    it('falls back to the national standard before a region has any in force, and to the earliest national one before any', () => {
      const onlyLater = { ...DEFAULT_MEANS_POLICY, minimumLivingStandards: [...DEFAULT_MEANS_POLICY.minimumLivingStandards.filter((r) => r.region !== 'CN-SH'), raised] };
      expect(findMinimumLivingStandard(onlyLater, 'CN-SH', 'urban', '2027-01-01')).toMatchObject({ region: 'CN', monthlyAmount: 79_810 });
      expect(findMinimumLivingStandard(onlyLater, 'CN', 'urban', '2020-01-01')).toMatchObject({ region: 'CN', effectiveFrom: '2024-12-31' });
    });
  });
});

describe('validateMeansPolicy', () => {
  it('refuses anything but an object', () => {
    for (const value of [null, [], 'policy', 3]) {
      expect(validateMeansPolicy(value)).toEqual([{ field: '(body)', message: 'must be a JSON object' }]);
    }
  });

  it('names missing and unknown fields', () => {
    const fields = fieldsOf(
      policyWith((policy) => {
        delete policy.caps;
        policy.thresholds.extra = 1;
        policy.debug = true;
      }),
    );
    expect(fields).toEqual(expect.arrayContaining(['caps', 'thresholds.extra', 'debug']));
  });

  it('accepts tranche splits that sum to exactly 1', () => {
    const split = policyWith((policy) => {
      policy.tranches.hsct = [
        { label: 'conditioning', share: '0.5' },
        { label: 'engraftment', share: '0.5' },
      ];
      policy.tranches.ist = [
        { label: 'first', share: '0.6' },
        { label: 'second', share: '0.4' },
      ];
      policy.tranches.supportive = [
        { label: 'a', share: '0.1' },
        { label: 'b', share: '0.2' },
        { label: 'c', share: '0.7' },
      ];
    });
    expect(validateMeansPolicy(split)).toEqual([]);
  });

  it('also accepts a regional row that is newer than the national ones', () => {
    const withBeijing = policyWith((policy) =>
      policy.minimumLivingStandards.push({
        region: 'CN-BJ',
        hukouType: 'urban',
        monthlyAmount: 139_500,
        source: 'test figure',
        effectiveFrom: '2028-02-29',
      }),
    );
    expect(validateMeansPolicy(withBeijing)).toEqual([]);
  });

  it.each<[string, (policy: Record<string, any>) => void, string]>([
    ['a share above 1', (p) => (p.shares.A = '1.01'), 'shares.A'],
    ['a negative share', (p) => (p.shares.C = '-0.1'), 'shares.C'],
    ['a share as a number', (p) => (p.shares.B = 0.85), 'shares.B'],
    ['a share in exponent notation', (p) => (p.shares.B = '8.5e-1'), 'shares.B'],
    ['shares rising towards tier C', (p) => (p.shares.C = '0.9'), 'shares'],
    ['a missing tier', (p) => delete p.shares.C, 'shares.C'],
    ['a fractional cap', (p) => (p.caps.hsct = 100.5), 'caps.hsct'],
    ['a negative cap', (p) => (p.caps.ist = -1), 'caps.ist'],
    ['a cap as a string', (p) => (p.caps.supportive = '2000000'), 'caps.supportive'],
    ['an unknown plan', (p) => (p.caps.chemo = 1), 'caps.chemo'],
    ['a zero income multiple', (p) => (p.thresholds.tierAIncomeMultiple = '0'), 'thresholds.tierAIncomeMultiple'],
    ['a tier B income limit below tier A\'s (tier B out of reach by income)', (p) => (p.thresholds.tierBIncomeMultiple = '0.9'), 'thresholds.tierBIncomeMultiple'],
    ['a tier C burden above tier B\'s (tier C out of reach)', (p) => (p.thresholds.tierCBurden = '1.1'), 'thresholds.tierCBurden'],
    ['a tier C burden equal to tier B\'s (tier B is tried first)', (p) => (p.thresholds.tierCBurden = '1'), 'thresholds.tierCBurden'],
    ['a deducted share above 1', (p) => (p.thresholds.capacityToPayShareDeducted = '1.5'), 'thresholds.capacityToPayShareDeducted'],
    ['fractional months', (p) => (p.thresholds.subsistenceMonths = 12.5), 'thresholds.subsistenceMonths'],
    ['a zero rounding unit', (p) => (p.thresholds.roundingUnit = 0), 'thresholds.roundingUnit'],
    ['a negative minimum out-of-pocket', (p) => (p.manualReview.minimumOutOfPocket = -5), 'manualReview.minimumOutOfPocket'],
    ['a flag that is not boolean', (p) => (p.manualReview.flagVehicle = 'yes'), 'manualReview.flagVehicle'],
    ['tranches summing to less than 1', (p) => (p.tranches.hsct = [{ label: 'a', share: '0.5' }, { label: 'b', share: '0.4' }]), 'tranches.hsct'],
    ['tranches summing to more than 1', (p) => (p.tranches.ist = [{ label: 'a', share: '0.6' }, { label: 'b', share: '0.41' }]), 'tranches.ist'],
    ['no tranche', (p) => (p.tranches.supportive = []), 'tranches.supportive'],
    ['a zero tranche', (p) => (p.tranches.hsct = [{ label: 'a', share: '1' }, { label: 'b', share: '0' }]), 'tranches.hsct[1].share'],
    ['duplicate tranche labels', (p) => (p.tranches.hsct = [{ label: 'a', share: '0.5' }, { label: 'a', share: '0.5' }]), 'tranches.hsct[1].label'],
    ['an empty tranche label', (p) => (p.tranches.hsct = [{ label: ' ', share: '1' }]), 'tranches.hsct[0].label'],
    ['an unknown region', (p) => (p.minimumLivingStandards[2].region = 'CN-31'), 'minimumLivingStandards[2].region'],
    ['a lower-case region', (p) => (p.minimumLivingStandards[2].region = 'cn-sh'), 'minimumLivingStandards[2].region'],
    ['an unknown hukou type', (p) => (p.minimumLivingStandards[2].hukouType = 'military'), 'minimumLivingStandards[2].hukouType'],
    ['a zero standard', (p) => (p.minimumLivingStandards[0].monthlyAmount = 0), 'minimumLivingStandards[0].monthlyAmount'],
    ['a standard in yuan with decimals', (p) => (p.minimumLivingStandards[0].monthlyAmount = 798.1), 'minimumLivingStandards[0].monthlyAmount'],
    ['an impossible date', (p) => (p.minimumLivingStandards[0].effectiveFrom = '2023-02-29'), 'minimumLivingStandards[0].effectiveFrom'],
    ['a date in another format', (p) => (p.minimumLivingStandards[0].effectiveFrom = '2024/12/31'), 'minimumLivingStandards[0].effectiveFrom'],
    ['an empty source', (p) => (p.minimumLivingStandards[0].source = ''), 'minimumLivingStandards[0].source'],
    ['a duplicate region, hukou type and start date', (p) => p.minimumLivingStandards.push({ ...p.minimumLivingStandards[2] }), 'minimumLivingStandards[4]'],
    ['no national rural row', (p) => p.minimumLivingStandards.splice(1, 1), 'minimumLivingStandards'],
    ['standards that are not a list', (p) => (p.minimumLivingStandards = {}), 'minimumLivingStandards'],
  ])('refuses %s', (_name, breakIt, field) => {
    const errors = validateMeansPolicy(policyWith(breakIt));
    expect(errors.map((error) => error.field)).toContain(field);
    expect(errors.every((error) => error.message.length > 0)).toBe(true);
  });

  it('says which hukou type lacks its national fallback', () => {
    const errors = validateMeansPolicy(policyWith((p) => p.minimumLivingStandards.splice(0, 1)));
    expect(errors).toEqual([{ field: 'minimumLivingStandards', message: 'needs a national ("CN") standard for urban hukou' }]);
  });
});
