import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  CONSENTS,
  DIAGNOSES,
  HUKOU_TYPES,
  RELATIONSHIPS,
  SEXES,
  STATUS_FLAGS,
  TREATMENT_PLANS,
} from 'src/applications/application-fields';
import type { ConsentName } from 'src/applications/application-fields';
import { APPLICATION_STATUSES } from 'src/applications/application-status';
import type { ApplicationStatus } from 'src/applications/application-status';
import { FieldErrorDto } from 'src/common/problem/problem.dto';

const FEN = 'minor units (fen)';
const TIERS = ['A', 'B', 'C', 'ineligible'];

export class PatientDto {
  @ApiPropertyOptional() fullName?: string;
  @ApiPropertyOptional({ enum: SEXES }) sex?: string;
  @ApiPropertyOptional({ format: 'date' }) dateOfBirth?: string;
  @ApiPropertyOptional({ description: 'Only for the family, reviewers and admins' }) nationalId?: string;
  @ApiPropertyOptional({ example: 'CN-SH' }) region?: string;
  @ApiPropertyOptional({ enum: HUKOU_TYPES }) hukouType?: string;
}

export class GuardianDto {
  @ApiPropertyOptional() fullName?: string;
  @ApiPropertyOptional({ enum: RELATIONSHIPS }) relationship?: string;
  @ApiPropertyOptional({ description: 'Only for the family, reviewers and admins' }) nationalId?: string;
  @ApiPropertyOptional() phone?: string;
}

export class HouseholdDto {
  @ApiPropertyOptional() size?: number;
  @ApiPropertyOptional({ type: 'integer', description: FEN }) annualIncome?: number;
  @ApiPropertyOptional({ type: 'integer', description: FEN }) liquidAssets?: number;
  @ApiPropertyOptional({ type: 'integer', description: FEN }) debts?: number;
  @ApiPropertyOptional() ownsVehicle?: boolean;
  @ApiPropertyOptional() ownsExtraProperty?: boolean;
  @ApiPropertyOptional({ enum: STATUS_FLAGS, isArray: true }) statusFlags?: string[];
}

export class MedicalDto {
  @ApiPropertyOptional({ enum: DIAGNOSES }) diagnosis?: string;
  @ApiPropertyOptional() icd10?: string;
  @ApiPropertyOptional({ format: 'date' }) diagnosedOn?: string;
  @ApiPropertyOptional({ description: '10⁹/L' }) anc?: number;
  @ApiPropertyOptional({ description: '10⁹/L' }) platelets?: number;
  @ApiPropertyOptional({ description: '10⁹/L' }) reticulocytes?: number;
  @ApiPropertyOptional({ enum: TREATMENT_PLANS }) treatmentPlan?: string;
  @ApiPropertyOptional({ type: 'integer', description: FEN }) estimatedCost?: number;
  @ApiPropertyOptional({ type: 'integer', description: FEN }) expectedReimbursement?: number;
  @ApiPropertyOptional({ type: 'integer', description: FEN }) otherAid?: number;
}

export class ConsentsDto {
  @ApiPropertyOptional() sensitiveData?: boolean;
  @ApiPropertyOptional() guardian?: boolean;
  @ApiPropertyOptional() truthfulness?: boolean;
  @ApiPropertyOptional() publicDisclosure?: boolean;
}

export class ConsentRecordDto {
  @ApiProperty({ enum: CONSENTS }) consent: ConsentName;
  @ApiProperty() given: boolean;
  @ApiProperty({ type: String, format: 'date-time', description: 'When it was given or withdrawn' }) recordedAt: string;
  @ApiProperty({ description: 'Version of the consent text shown' }) textVersion: string;
}

/**
 * One application as the caller may see it. Sections, national ids and consents are present only for the
 * family, reviewers and admins; finance roles get the reference, status and the patient's name.
 */
export class ApplicationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'SPR-2026-000123' }) reference: string;
  @ApiProperty({ enum: APPLICATION_STATUSES }) status: ApplicationStatus;
  @ApiProperty({ description: 'Optimistic version; send it back as If-Match to refuse a stale change' }) version: number;
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String }) hospitalId: string | null;
  @ApiProperty({ type: PatientDto }) patient: PatientDto;
  @ApiPropertyOptional({ type: GuardianDto }) guardian?: GuardianDto;
  @ApiPropertyOptional({ type: HouseholdDto }) household?: HouseholdDto;
  @ApiPropertyOptional({ type: MedicalDto }) medical?: MedicalDto;
  @ApiPropertyOptional({ type: ConsentsDto }) consents?: ConsentsDto;
  @ApiPropertyOptional({ type: [ConsentRecordDto] }) consentRecords?: ConsentRecordDto[];
  @ApiPropertyOptional({ enum: TIERS, nullable: true, type: String, description: 'Tier of the latest means assessment' }) tier?: string | null;
  @ApiPropertyOptional({ nullable: true, type: 'integer', description: `Recommended amount of the latest assessment, ${FEN}` })
  recommendedAmount?: number | null;
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Plausibility warnings that do not block submission (e.g. a patient older than the means policy\'s age limit)' })
  warnings?: FieldErrorDto[];
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) submittedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt: string;
}

export class ApplicationListItemDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'SPR-2026-000123' }) reference: string;
  @ApiProperty({ enum: APPLICATION_STATUSES }) status: ApplicationStatus;
  @ApiProperty() version: number;
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String }) hospitalId: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) patientName: string | null;
  @ApiPropertyOptional({ enum: TIERS, nullable: true, type: String }) tier?: string | null;
  @ApiPropertyOptional({ nullable: true, type: 'integer', description: FEN }) recommendedAmount?: number | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) submittedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt: string;
  @ApiPropertyOptional({
    description:
      "Reviewers' and admins' lists: true when a recorded conflict of interest bars you from this application (its reads and review actions answer 403 conflict-of-interest); patientName, tier and recommendedAmount are then null.",
  })
  conflictOfInterest?: boolean;
}

export class ApplicationPageDto {
  @ApiProperty({ type: [ApplicationListItemDto] }) items: ApplicationListItemDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class StatusChangeDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'SPR-2026-000123' }) reference: string;
  @ApiProperty({ enum: APPLICATION_STATUSES }) status: ApplicationStatus;
  @ApiProperty() version: number;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) submittedAt: string | null;
}
