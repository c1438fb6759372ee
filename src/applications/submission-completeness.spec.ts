import { DocumentType } from 'src/applications/application-fields';
import { ApplicationState, EMPTY_STATE } from 'src/applications/application-sections';
import { missingForSubmission } from 'src/applications/submission-completeness';

const record = { given: true, recordedAt: '2026-01-01T00:00:00.000Z', textVersion: 'v' };
const complete: ApplicationState = {
  hospitalId: '3f1d2c4e-1111-4222-8333-444455556666',
  patient: { fullName: 'A', sex: 'male', dateOfBirth: '2019-05-01', region: 'CN-GS', hukouType: 'rural' },
  guardian: { fullName: 'B', relationship: 'mother', phone: '13800000000' },
  household: { size: 4, annualIncome: 0, liquidAssets: 0, debts: 0, ownsVehicle: false, ownsExtraProperty: false, statusFlags: [] },
  medical: { diagnosis: 'acquired_aplastic_anemia', diagnosedOn: '2026-01-01', treatmentPlan: 'hsct', estimatedCost: 1, expectedReimbursement: 0, otherAid: 0 },
  consents: { sensitiveData: record, guardian: record, truthfulness: record },
  patientNationalId: '310101201905010015',
  guardianNationalId: '310101198801010024',
};
const allDocuments = new Set<DocumentType>(['diagnosis_certificate', 'cost_estimate', 'guardian_id', 'household_register', 'poverty_certificate']);

describe('missingForSubmission', () => {
  it('is empty for a complete application (zero amounts and no status flags are answers, not gaps)', () => {
    expect(missingForSubmission({ state: complete, emailVerified: true, documentTypes: allDocuments })).toEqual([]);
  });

  it('accepts income_proof instead of poverty_certificate, and publicDisclosure stays optional', () => {
    const documentTypes = new Set<DocumentType>([...allDocuments].filter((t) => t !== 'poverty_certificate').concat('income_proof'));
    expect(missingForSubmission({ state: complete, emailVerified: true, documentTypes })).toEqual([]);
  });

  it('lists every missing item of an empty draft', () => {
    const fields = missingForSubmission({ state: EMPTY_STATE, emailVerified: false, documentTypes: new Set() }).map((e) => e.field);
    expect(fields.sort()).toEqual(
      [
        'email',
        'hospitalId',
        'patient.fullName',
        'patient.sex',
        'patient.dateOfBirth',
        'patient.region',
        'patient.hukouType',
        'patient.nationalId',
        'guardian.fullName',
        'guardian.relationship',
        'guardian.phone',
        'guardian.nationalId',
        'household.size',
        'household.annualIncome',
        'household.liquidAssets',
        'household.debts',
        'household.ownsVehicle',
        'household.ownsExtraProperty',
        'household.statusFlags',
        'medical.diagnosis',
        'medical.diagnosedOn',
        'medical.treatmentPlan',
        'medical.estimatedCost',
        'medical.expectedReimbursement',
        'medical.otherAid',
        'consents.sensitiveData',
        'consents.guardian',
        'consents.truthfulness',
        'documents.diagnosis_certificate',
        'documents.cost_estimate',
        'documents.guardian_id',
        'documents.household_register',
        'documents.poverty_certificate|income_proof',
      ].sort(),
    );
  });

  it('treats a withdrawn consent as missing', () => {
    const state = { ...complete, consents: { ...complete.consents, guardian: { ...record, given: false } } };
    expect(missingForSubmission({ state, emailVerified: true, documentTypes: allDocuments })).toEqual([{ field: 'consents.guardian', message: 'must be given' }]);
  });
});
