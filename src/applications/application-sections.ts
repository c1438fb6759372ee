import {
  CONSENT_TEXT_VERSION,
  CONSENTS,
  ConsentName,
} from 'src/applications/application-fields';
import type {
  ConsentRecords,
  GuardianSection,
  HouseholdSection,
  MedicalSection,
  PatientSection,
} from 'src/applications/application.entity';
import type { ApplicationInputDto } from 'src/applications/dto/application-input.dto';

export const PATIENT_FIELDS = ['fullName', 'sex', 'dateOfBirth', 'region', 'hukouType'] as const;
export const GUARDIAN_FIELDS = ['fullName', 'relationship', 'phone'] as const;
export const HOUSEHOLD_FIELDS = ['size', 'annualIncome', 'liquidAssets', 'debts', 'ownsVehicle', 'ownsExtraProperty', 'statusFlags'] as const;
export const MEDICAL_FIELDS = [
  'diagnosis',
  'icd10',
  'diagnosedOn',
  'anc',
  'platelets',
  'reticulocytes',
  'treatmentPlan',
  'estimatedCost',
  'expectedReimbursement',
  'otherAid',
] as const;

/** What an application holds, national ids in plain text (only ever in memory, inside the service). */
export interface ApplicationState {
  hospitalId: string | null;
  patient: PatientSection;
  guardian: GuardianSection;
  household: HouseholdSection;
  medical: MedicalSection;
  consents: ConsentRecords;
  patientNationalId: string | null;
  guardianNationalId: string | null;
}

export const EMPTY_STATE: ApplicationState = {
  hospitalId: null,
  patient: {},
  guardian: {},
  household: {},
  medical: {},
  consents: {},
  patientNationalId: null,
  guardianNationalId: null,
};

export type MergeResult = { state: ApplicationState; changed: string[] };

/**
 * Applies a POST/PATCH body: fields left out stay, `null` clears a field (or a whole section), anything else
 * replaces it. Consents are records of when and under which text version they were given or withdrawn;
 * repeating the same answer keeps the original record. `changed` lists field paths, never values.
 */
export function mergeInput(current: ApplicationState, input: ApplicationInputDto, now: Date): MergeResult {
  const changed: string[] = [];
  const state: ApplicationState = {
    ...current,
    patient: { ...current.patient },
    guardian: { ...current.guardian },
    household: { ...current.household },
    medical: { ...current.medical },
    consents: { ...current.consents },
  };

  if (input.hospitalId !== undefined && input.hospitalId !== current.hospitalId) {
    state.hospitalId = input.hospitalId;
    changed.push('hospitalId');
  }

  const patient = input.patient as Record<string, unknown> | null | undefined;
  mergeSection(state.patient, current.patient, patient, PATIENT_FIELDS, 'patient', changed);
  state.patientNationalId = mergeNationalId(current.patientNationalId, patient, 'patient.nationalId', changed);

  const guardian = input.guardian as Record<string, unknown> | null | undefined;
  mergeSection(state.guardian, current.guardian, guardian, GUARDIAN_FIELDS, 'guardian', changed);
  state.guardianNationalId = mergeNationalId(current.guardianNationalId, guardian, 'guardian.nationalId', changed);

  mergeSection(state.household, current.household, input.household as never, HOUSEHOLD_FIELDS, 'household', changed);
  mergeSection(state.medical, current.medical, input.medical as never, MEDICAL_FIELDS, 'medical', changed);

  const consents = input.consents as Record<string, unknown> | null | undefined;
  if (consents !== undefined) {
    for (const name of CONSENTS) {
      const value = consents === null ? false : consents[name];
      if (value === undefined) continue;
      // Clearing a consent is withdrawing it: the record stays, as evidence of when it was withdrawn.
      const given = value === true;
      if (current.consents[name]?.given === given) continue;
      state.consents[name] = { given, recordedAt: now.toISOString(), textVersion: CONSENT_TEXT_VERSION };
      changed.push(`consents.${name}`);
    }
  }
  return { state, changed };
}

function mergeSection(
  targetSection: object,
  currentSection: object,
  input: Record<string, unknown> | null | undefined,
  fields: readonly string[],
  path: string,
  changed: string[],
): void {
  if (input === undefined) return;
  const target = targetSection as Record<string, unknown>;
  const current = currentSection as Record<string, unknown>;
  for (const field of fields) {
    const value = input === null ? null : input[field];
    if (value === undefined) continue;
    if (value === null) {
      if (field in current) changed.push(`${path}.${field}`);
      delete target[field];
    } else {
      if (JSON.stringify(current[field]) !== JSON.stringify(value)) changed.push(`${path}.${field}`);
      target[field] = Array.isArray(value) ? [...value] : value;
    }
  }
}

function mergeNationalId(current: string | null, section: Record<string, unknown> | null | undefined, path: string, changed: string[]): string | null {
  if (section === undefined) return current;
  const value = section === null ? null : section.nationalId;
  if (value === undefined) return current;
  const next = typeof value === 'string' ? value : null;
  if (next !== current) changed.push(path);
  return next;
}

export function consentGiven(state: ApplicationState, name: ConsentName): boolean {
  return state.consents[name]?.given === true;
}
