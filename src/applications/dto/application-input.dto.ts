import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  CN_REGION_CODES,
  DIAGNOSES,
  HUKOU_TYPES,
  MAX_HOUSEHOLD_SIZE,
  RELATIONSHIPS,
  SEXES,
  STATUS_FLAGS,
  TREATMENT_PLANS,
} from 'src/applications/application-fields';
import type { Diagnosis, HukouType, Relationship, Sex, StatusFlag, TreatmentPlan } from 'src/applications/application-fields';
import { HasUniqueItems, IsDecimal, IsFen, IsNationalId, IsPhone, IsRealPastDate, toLowerCase, toNationalId, trim } from 'src/applications/dto/field-validators';
import { IsPersonName } from 'src/common/validation/text-fields';

const FEN = 'minor units (fen)';
const CLEAR = 'null clears the field';

/** Every field is optional: a draft is filled over several visits. Completeness is checked at submission. */
export class PatientInputDto {
  @ApiPropertyOptional({ type: String, example: '王小明', nullable: true, description: CLEAR })
  @IsOptional() @IsPersonName()
  fullName?: string | null;

  @ApiPropertyOptional({ enum: SEXES, nullable: true })
  @IsOptional() @IsIn(SEXES)
  sex?: Sex | null;

  @ApiPropertyOptional({ type: String, example: '2019-05-01', format: 'date', nullable: true, description: 'Not in the future; a patient older than the means policy\'s manualReview.maxPatientAgeYears (18) gives a warning' })
  @IsOptional() @IsRealPastDate()
  dateOfBirth?: string | null;

  @ApiPropertyOptional({ type: String, example: '310101201905010015', nullable: true, description: 'Resident identity number (GB 11643); stored encrypted' })
  @IsOptional() @Transform(toNationalId) @IsNationalId()
  nationalId?: string | null;

  @ApiPropertyOptional({ example: 'CN-SH', enum: CN_REGION_CODES, nullable: true, description: 'ISO 3166-2:CN code of the hukou region' })
  @IsOptional() @IsIn(CN_REGION_CODES)
  region?: string | null;

  @ApiPropertyOptional({ enum: HUKOU_TYPES, nullable: true })
  @IsOptional() @IsIn(HUKOU_TYPES)
  hukouType?: HukouType | null;
}

export class GuardianInputDto {
  @ApiPropertyOptional({ type: String, example: '李梅', nullable: true })
  @IsOptional() @IsPersonName()
  fullName?: string | null;

  @ApiPropertyOptional({ enum: RELATIONSHIPS, nullable: true })
  @IsOptional() @IsIn(RELATIONSHIPS)
  relationship?: Relationship | null;

  @ApiPropertyOptional({ type: String, example: '310101198801010024', nullable: true, description: 'Resident identity number (GB 11643); stored encrypted' })
  @IsOptional() @Transform(toNationalId) @IsNationalId()
  nationalId?: string | null;

  @ApiPropertyOptional({ type: String, example: '13800000000', nullable: true, description: 'Mainland mobile (optionally +86) or landline with area code' })
  @IsOptional() @IsPhone()
  phone?: string | null;
}

export class HouseholdInputDto {
  @ApiPropertyOptional({ type: 'integer', example: 4, minimum: 1, maximum: MAX_HOUSEHOLD_SIZE, nullable: true, description: 'People in the household, the patient included' })
  @IsOptional() @IsInt() @Min(1) @Max(MAX_HOUSEHOLD_SIZE)
  size?: number | null;

  @ApiPropertyOptional({ type: 'integer', example: 4800000, nullable: true, description: `Annual household income, ${FEN}` })
  @IsOptional() @IsFen()
  annualIncome?: number | null;

  @ApiPropertyOptional({ type: 'integer', example: 1000000, nullable: true, description: `Savings and other liquid assets, ${FEN}` })
  @IsOptional() @IsFen()
  liquidAssets?: number | null;

  @ApiPropertyOptional({ type: 'integer', example: 0, nullable: true, description: `Debts, ${FEN}` })
  @IsOptional() @IsFen()
  debts?: number | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true })
  @IsOptional() @IsBoolean()
  ownsVehicle?: boolean | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true })
  @IsOptional() @IsBoolean()
  ownsExtraProperty?: boolean | null;

  @ApiPropertyOptional({ enum: STATUS_FLAGS, isArray: true, nullable: true, description: 'An empty array when none applies' })
  @IsOptional() @IsArray() @ArrayMaxSize(STATUS_FLAGS.length) @HasUniqueItems() @IsIn(STATUS_FLAGS, { each: true })
  statusFlags?: StatusFlag[] | null;
}

export class MedicalInputDto {
  @ApiPropertyOptional({ enum: DIAGNOSES, nullable: true })
  @IsOptional() @IsIn(DIAGNOSES)
  diagnosis?: Diagnosis | null;

  @ApiPropertyOptional({ type: String, example: 'D61.9', nullable: true })
  @IsOptional() @Transform(trim) @IsString() @Matches(/^[A-Z]\d{2}(\.\d{1,2})?$/, { message: 'icd10 must be an ICD-10 code such as D61.9' })
  icd10?: string | null;

  @ApiPropertyOptional({ type: String, example: '2025-09-01', format: 'date', nullable: true })
  @IsOptional() @IsRealPastDate()
  diagnosedOn?: string | null;

  @ApiPropertyOptional({ type: Number, example: 0.3, minimum: 0, maximum: 100, nullable: true, description: 'Absolute neutrophil count, 10⁹/L' })
  @IsOptional() @IsDecimal(3) @Min(0) @Max(100)
  anc?: number | null;

  @ApiPropertyOptional({ type: Number, example: 15, minimum: 0, maximum: 2000, nullable: true, description: 'Platelets, 10⁹/L' })
  @IsOptional() @IsDecimal(3) @Min(0) @Max(2000)
  platelets?: number | null;

  @ApiPropertyOptional({ type: Number, example: 18, minimum: 0, maximum: 1000, nullable: true, description: 'Reticulocytes, 10⁹/L' })
  @IsOptional() @IsDecimal(3) @Min(0) @Max(1000)
  reticulocytes?: number | null;

  @ApiPropertyOptional({ enum: TREATMENT_PLANS, nullable: true })
  @IsOptional() @IsIn(TREATMENT_PLANS)
  treatmentPlan?: TreatmentPlan | null;

  @ApiPropertyOptional({ type: 'integer', example: 40000000, nullable: true, description: `Estimated cost of the treatment, ${FEN}` })
  @IsOptional() @IsFen()
  estimatedCost?: number | null;

  @ApiPropertyOptional({ type: 'integer', example: 22000000, nullable: true, description: `Expected insurance and medical-assistance reimbursement, ${FEN}` })
  @IsOptional() @IsFen()
  expectedReimbursement?: number | null;

  @ApiPropertyOptional({ type: 'integer', example: 0, nullable: true, description: `Other aid already granted, ${FEN}` })
  @IsOptional() @IsFen()
  otherAid?: number | null;
}

export class ConsentsInputDto {
  @ApiPropertyOptional({ type: Boolean, description: 'Processing of sensitive personal information (PIPL Art. 29)', nullable: true })
  @IsOptional() @IsBoolean()
  sensitiveData?: boolean | null;

  @ApiPropertyOptional({ type: Boolean, description: "The guardian's consent for the child (PIPL Art. 31)", nullable: true })
  @IsOptional() @IsBoolean()
  guardian?: boolean | null;

  @ApiPropertyOptional({ type: Boolean, description: 'The information given is true and complete', nullable: true })
  @IsOptional() @IsBoolean()
  truthfulness?: boolean | null;

  @ApiPropertyOptional({ type: Boolean, description: "Optional: the child's story may be told in fundraising", nullable: true })
  @IsOptional() @IsBoolean()
  publicDisclosure?: boolean | null;
}

/** The body of POST and PATCH /applications: any part of any section; fields left out stay as they are. */
export class ApplicationInputDto {
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'The treating hospital' })
  @IsOptional() @Transform(toLowerCase) @IsUUID()
  hospitalId?: string | null;

  @ApiPropertyOptional({ type: PatientInputDto })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => PatientInputDto)
  patient?: PatientInputDto;

  @ApiPropertyOptional({ type: GuardianInputDto })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => GuardianInputDto)
  guardian?: GuardianInputDto;

  @ApiPropertyOptional({ type: HouseholdInputDto })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => HouseholdInputDto)
  household?: HouseholdInputDto;

  @ApiPropertyOptional({ type: MedicalInputDto })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => MedicalInputDto)
  medical?: MedicalInputDto;

  @ApiPropertyOptional({ type: ConsentsInputDto })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => ConsentsInputDto)
  consents?: ConsentsInputDto;
}
