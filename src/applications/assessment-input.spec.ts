import { ApplicationState, EMPTY_STATE } from 'src/applications/application-sections';
import { toAssessmentInput } from 'src/applications/assessment-input';
import { assessMeans, isCompleteAssessmentInput } from 'src/assessment/means-assessment';
import { DEFAULT_MEANS_POLICY } from 'src/assessment/means-policy';

const workedExample: ApplicationState = {
  ...EMPTY_STATE,
  patient: { dateOfBirth: '2019-05-01', region: 'CN-GS', hukouType: 'rural' },
  household: { size: 4, annualIncome: 4_800_000, liquidAssets: 1_000_000, debts: 0, ownsVehicle: false, ownsExtraProperty: false, statusFlags: [] },
  medical: { treatmentPlan: 'hsct', estimatedCost: 40_000_000, expectedReimbursement: 22_000_000, otherAid: 0 },
};
const facts = { hasOtherOpenApplication: false, firstAppliedAt: new Date('2026-11-21T00:00:00Z') };

describe('toAssessmentInput', () => {
  it('maps a complete application to the inputs of the worked example', () => {
    const { input, missing } = toAssessmentInput(workedExample, facts);
    expect(missing).toEqual([]);
    expect(isCompleteAssessmentInput(input)).toBe(true);
    expect(input.patientAgeYears).toBe(7);
    const result = assessMeans(input as never, DEFAULT_MEANS_POLICY);
    expect(result).toMatchObject({ tier: 'B', subsistence: 2_850_720, capacityToPay: 1_949_280, outOfPocket: 18_000_000, recommendedAmount: 10_000_000 });
  });

  it('names the application fields a draft still lacks', () => {
    expect(toAssessmentInput(EMPTY_STATE, facts).missing.sort()).toEqual(
      [
        'household.size',
        'household.annualIncome',
        'household.liquidAssets',
        'household.debts',
        'household.statusFlags',
        'household.ownsVehicle',
        'household.ownsExtraProperty',
        'medical.estimatedCost',
        'medical.expectedReimbursement',
        'medical.otherAid',
        'medical.treatmentPlan',
        'patient.region',
        'patient.hukouType',
      ].sort(),
    );
  });

  it('counts the age at the first application and passes the duplicate flag through', () => {
    const { input } = toAssessmentInput({ ...workedExample, patient: { ...workedExample.patient, dateOfBirth: '2008-01-01' } }, {
      hasOtherOpenApplication: true,
      firstAppliedAt: new Date('2026-12-31T00:00:00Z'),
    });
    expect(input.patientAgeYears).toBe(18);
    expect(input.hasOtherOpenApplication).toBe(true);
    expect(assessMeans(input as never, DEFAULT_MEANS_POLICY).manualReviewReasons).toEqual(['duplicate_child_application']);
  });
});
