import { CONSENTS } from 'src/applications/application-fields';
import { GUARDIAN_FIELDS, HOUSEHOLD_FIELDS, MEDICAL_FIELDS, PATIENT_FIELDS } from 'src/applications/application-sections';
import type { ApplicationListRow, ApplicationView } from 'src/applications/application-reads';
import { Application, ConsentRecords } from 'src/applications/application.entity';
import { VISIBILITY } from 'src/applications/application-visibility';
import { ApplicationDto, ApplicationListItemDto, ConsentRecordDto, ConsentsDto, StatusChangeDto } from 'src/applications/dto/application.dto';
import type { Role } from 'src/common/auth/roles';
import type { FieldError } from 'src/common/problem/problem.exception';
import { hasConflictsToCheck } from 'src/review/reviewer-conflict-sql';

export type DecryptedIds = { patient: string | null; guardian: string | null };

/** Copies only the listed fields: a column added to a section later is not published by accident. */
function pick<T extends object>(source: T, fields: readonly string[]): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = (source as Record<string, unknown>)[field];
    if (value !== undefined && value !== null) out[field] = Array.isArray(value) ? [...value] : value;
  }
  return out as Partial<T>;
}

function consentFlags(records: ConsentRecords): ConsentsDto {
  const out: ConsentsDto = {};
  for (const name of CONSENTS) if (records[name]) out[name] = records[name]!.given;
  return out;
}

function consentRecords(records: ConsentRecords): ConsentRecordDto[] {
  return CONSENTS.filter((name) => records[name]).map((name) => ({
    consent: name,
    given: records[name]!.given,
    recordedAt: records[name]!.recordedAt,
    textVersion: records[name]!.textVersion,
  }));
}

/**
 * The application as `role` may see it. `ids` must be null for roles that may not read national ids;
 * the visibility table decides again here, so a caller's mistake cannot publish them.
 */
export function toApplicationDto(app: ApplicationView, role: Role, ids: DecryptedIds | null, warnings: FieldError[]): ApplicationDto {
  const see = VISIBILITY[role];
  const dto: ApplicationDto = {
    id: app.id,
    reference: app.reference,
    status: app.status,
    version: app.version,
    hospitalId: app.hospitalId,
    patient: see.sections ? pick(app.patient, PATIENT_FIELDS) : pick(app.patient, ['fullName']),
    submittedAt: app.submittedAt?.toISOString() ?? null,
    createdAt: app.createdAt.toISOString(),
    updatedAt: app.updatedAt.toISOString(),
  };
  if (see.sections) {
    dto.guardian = pick(app.guardian, GUARDIAN_FIELDS);
    dto.household = pick(app.household, HOUSEHOLD_FIELDS);
    dto.medical = pick(app.medical, MEDICAL_FIELDS);
    dto.consents = consentFlags(app.consents);
    dto.consentRecords = consentRecords(app.consents);
    dto.warnings = warnings.map((w) => ({ field: w.field, message: w.message }));
  }
  if (see.nationalIds !== 'none' && ids) {
    if (ids.patient) dto.patient.nationalId = ids.patient;
    // Object.assign, not a spread with a new key: see toCommon in application-reads.ts.
    if (ids.guardian) dto.guardian = Object.assign(dto.guardian ?? {}, { nationalId: ids.guardian });
  }
  if (see.assessmentOutcome) {
    dto.tier = app.assessmentTier;
    dto.recommendedAmount = app.recommendedAmount;
  }
  return dto;
}

export function toListItemDto(app: ApplicationListRow, role: Role): ApplicationListItemDto {
  const item: ApplicationListItemDto = {
    id: app.id,
    reference: app.reference,
    status: app.status,
    version: app.version,
    hospitalId: app.hospitalId,
    // Barred by a conflict of interest (every read of the case is 403): the line says so, without the child's name or
    // the family's means, which are for reviewers who may take the case up.
    patientName: app.conflicted ? null : app.patientName,
    submittedAt: app.submittedAt,
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
  };
  if (VISIBILITY[role].assessmentOutcome) {
    item.tier = app.conflicted ? null : app.assessmentTier;
    item.recommendedAmount = app.conflicted ? null : app.recommendedAmount;
  }
  if (hasConflictsToCheck(role)) item.conflictOfInterest = app.conflicted;
  return item;
}

export function toStatusChangeDto(app: Pick<Application, 'id' | 'reference' | 'status' | 'version' | 'submittedAt'>): StatusChangeDto {
  return { id: app.id, reference: app.reference, status: app.status, version: app.version, submittedAt: app.submittedAt?.toISOString() ?? null };
}
