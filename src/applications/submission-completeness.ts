import {
  DocumentType,
  REQUIRED_CONSENTS,
  REQUIRED_DOCUMENT_ONE_OF,
  REQUIRED_DOCUMENTS,
} from 'src/applications/application-fields';
import { ApplicationState, consentGiven } from 'src/applications/application-sections';
import type { FieldError } from 'src/common/problem/problem.exception';

/** Fields a submission needs (API.md "Applications"); lab values and the ICD-10 code stay optional. */
const REQUIRED_FIELDS = {
  patient: ['fullName', 'sex', 'dateOfBirth', 'region', 'hukouType'],
  guardian: ['fullName', 'relationship', 'phone'],
  household: ['size', 'annualIncome', 'liquidAssets', 'debts', 'ownsVehicle', 'ownsExtraProperty', 'statusFlags'],
  medical: ['diagnosis', 'diagnosedOn', 'treatmentPlan', 'estimatedCost', 'expectedReimbursement', 'otherAid'],
} as const;

export type SubmissionFacts = {
  state: ApplicationState;
  emailVerified: boolean;
  documentTypes: ReadonlySet<DocumentType>;
};

/** Everything still missing before the application can be submitted, each as `{field, message}`; empty when ready. */
export function missingForSubmission({ state, emailVerified, documentTypes }: SubmissionFacts): FieldError[] {
  const missing: FieldError[] = [];
  if (!emailVerified) missing.push({ field: 'email', message: 'must be verified: follow the link in the verification email, or ask for a new one (POST /api/v1/auth/resend-verification)' });
  if (!state.hospitalId) missing.push({ field: 'hospitalId', message: 'is required' });
  for (const [section, fields] of Object.entries(REQUIRED_FIELDS)) {
    const values = state[section as keyof typeof REQUIRED_FIELDS] as Record<string, unknown>;
    for (const field of fields) {
      if (values[field] === undefined || values[field] === null) missing.push({ field: `${section}.${field}`, message: 'is required' });
    }
  }
  if (!state.patientNationalId) missing.push({ field: 'patient.nationalId', message: 'is required' });
  if (!state.guardianNationalId) missing.push({ field: 'guardian.nationalId', message: 'is required' });
  for (const consent of REQUIRED_CONSENTS) {
    if (!consentGiven(state, consent)) missing.push({ field: `consents.${consent}`, message: 'must be given' });
  }
  for (const type of REQUIRED_DOCUMENTS) {
    if (!documentTypes.has(type)) missing.push({ field: `documents.${type}`, message: 'is required' });
  }
  for (const group of REQUIRED_DOCUMENT_ONE_OF) {
    if (!group.some((type) => documentTypes.has(type))) {
      missing.push({ field: `documents.${group.join('|')}`, message: `one of ${group.join(', ')} is required` });
    }
  }
  return missing;
}
