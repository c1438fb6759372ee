import { CN_REGION_CODES, HUKOU_TYPES, TREATMENT_PLANS } from 'src/assessment/means-policy';
import type { HukouType, TreatmentPlan } from 'src/assessment/means-policy';

export { CN_REGION_CODES, HUKOU_TYPES, TREATMENT_PLANS };
export type { HukouType, TreatmentPlan };

export const SEXES = ['male', 'female'] as const;
export type Sex = (typeof SEXES)[number];

export const RELATIONSHIPS = [
  'mother',
  'father',
  'grandmother',
  'grandfather',
  'sibling',
  'aunt',
  'uncle',
  'legal_guardian',
  'other',
] as const;
export type Relationship = (typeof RELATIONSHIPS)[number];

/** Recognised hardship statuses: dibao (minimum living allowance), tekun (extreme poverty support), and the rest. */
export const STATUS_FLAGS = ['dibao', 'tekun', 'low_income_edge', 'monitored', 'orphan'] as const;
export type StatusFlag = (typeof STATUS_FLAGS)[number];

export const DIAGNOSES = [
  'acquired_aplastic_anemia',
  'severe_aplastic_anemia',
  'very_severe_aplastic_anemia',
  'non_severe_aplastic_anemia',
  'inherited_bone_marrow_failure',
  'other',
] as const;
export type Diagnosis = (typeof DIAGNOSES)[number];

/** Consents of PIPL Art. 29/31 (sensitive data, a guardian's consent for a child under 14) and the truthfulness pledge. */
export const CONSENTS = ['sensitiveData', 'guardian', 'truthfulness', 'publicDisclosure'] as const;
export type ConsentName = (typeof CONSENTS)[number];
/** Consents a submission needs; publicDisclosure (the child's story in fundraising) stays optional. */
export const REQUIRED_CONSENTS: readonly ConsentName[] = ['sensitiveData', 'guardian', 'truthfulness'];
/** Version of the consent texts the portal shows; stored with every recorded consent. */
export const CONSENT_TEXT_VERSION = '2025-11-01';

export const DOCUMENT_TYPES = [
  'diagnosis_certificate',
  'cost_estimate',
  'guardian_id',
  'household_register',
  'poverty_certificate',
  'income_proof',
  'bone_marrow_report',
  'hla_report',
  'invoice',
  'other',
] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

/** Every one of these, plus at least one of each ONE_OF group, before a submission. */
export const REQUIRED_DOCUMENTS: readonly DocumentType[] = ['diagnosis_certificate', 'cost_estimate', 'guardian_id', 'household_register'];
export const REQUIRED_DOCUMENT_ONE_OF: readonly (readonly DocumentType[])[] = [['poverty_certificate', 'income_proof']];

export const MAX_FEN = 1_000_000_000_000;
export const MAX_HOUSEHOLD_SIZE = 20;
