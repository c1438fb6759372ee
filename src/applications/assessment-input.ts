import { ApplicationState } from 'src/applications/application-sections';
import { completedYears } from 'src/applications/application-warnings';
import { todayInChina } from 'src/applications/dto/field-validators';
import { MeansAssessmentInput, missingAssessmentInputs } from 'src/assessment/means-assessment';

/** Where each assessment input comes from in the application, to tell a family what is still missing. */
const SOURCE: Record<keyof MeansAssessmentInput, string> = {
  householdSize: 'household.size',
  annualIncome: 'household.annualIncome',
  liquidAssets: 'household.liquidAssets',
  debts: 'household.debts',
  statusFlags: 'household.statusFlags',
  ownsVehicle: 'household.ownsVehicle',
  ownsExtraProperty: 'household.ownsExtraProperty',
  estimatedCost: 'medical.estimatedCost',
  expectedReimbursement: 'medical.expectedReimbursement',
  otherAid: 'medical.otherAid',
  treatmentPlan: 'medical.treatmentPlan',
  region: 'patient.region',
  hukouType: 'patient.hukouType',
  patientAgeYears: 'patient.dateOfBirth',
  hasOtherOpenApplication: 'patient.nationalId',
};

export type AssessmentFacts = {
  /** Another open application carries the same patient id hash. */
  hasOtherOpenApplication: boolean;
  /** The first submission, or now for a draft: the age rule counts years "at first application". */
  firstAppliedAt: Date;
};

export function toAssessmentInput(state: ApplicationState, facts: AssessmentFacts): { input: Partial<MeansAssessmentInput>; missing: string[] } {
  const { patient, household, medical } = state;
  const input: Partial<MeansAssessmentInput> = {
    householdSize: household.size,
    annualIncome: household.annualIncome,
    liquidAssets: household.liquidAssets,
    debts: household.debts,
    statusFlags: household.statusFlags ? [...household.statusFlags] : undefined,
    ownsVehicle: household.ownsVehicle,
    ownsExtraProperty: household.ownsExtraProperty,
    estimatedCost: medical.estimatedCost,
    expectedReimbursement: medical.expectedReimbursement,
    otherAid: medical.otherAid,
    treatmentPlan: medical.treatmentPlan,
    region: patient.region,
    hukouType: patient.hukouType,
    hasOtherOpenApplication: facts.hasOtherOpenApplication,
    patientAgeYears: patient.dateOfBirth ? Math.max(0, completedYears(patient.dateOfBirth, todayInChina(facts.firstAppliedAt))) : undefined,
  };
  for (const key of Object.keys(input) as (keyof MeansAssessmentInput)[]) {
    if (input[key] === undefined) delete input[key];
  }
  return { input, missing: missingAssessmentInputs(input).map((key) => SOURCE[key as keyof MeansAssessmentInput]) };
}
