import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, ValidateBy } from 'class-validator';
import { GRANT_TIERS, HUKOU_TYPES, TREATMENT_PLANS } from 'src/assessment/means-policy';
import type { MeansPolicy } from 'src/assessment/means-policy';
import { MeansPolicyVersion } from 'src/assessment/means-policy-version.entity';

/* Documentation-only shapes: the body is checked by validateMeansPolicy, which names every bad field. */

class MinimumLivingStandardDto {
  @ApiProperty({ example: 'CN-SH', description: '"CN" (national fallback) or an ISO 3166-2:CN code' }) region: string;
  @ApiProperty({ enum: HUKOU_TYPES }) hukouType: string;
  @ApiProperty({ type: 'integer', example: 59390, description: 'Per person per month, minor units (fen)' }) monthlyAmount: number;
  @ApiProperty({ description: 'Where the figure comes from' }) source: string;
  @ApiProperty({ format: 'date' }) effectiveFrom: string;
}

class TierSharesDto {
  @ApiProperty({ example: '1', description: 'Decimal string' }) A: string;
  @ApiProperty({ example: '0.85' }) B: string;
  @ApiProperty({ example: '0.7' }) C: string;
}

class PlanCapsDto {
  @ApiProperty({ type: 'integer', example: 10000000, description: 'minor units (fen)' }) hsct: number;
  @ApiProperty({ type: 'integer', example: 5000000, description: 'minor units (fen)' }) ist: number;
  @ApiProperty({ type: 'integer', example: 2000000, description: 'minor units (fen)' }) supportive: number;
}

class ThresholdsDto {
  @ApiProperty({ example: '1' }) tierAIncomeMultiple: string;
  @ApiProperty({ example: '1.5' }) tierBIncomeMultiple: string;
  @ApiProperty({ example: '1' }) tierBBurden: string;
  @ApiProperty({ example: '0.4' }) tierCBurden: string;
  @ApiProperty({ example: '0.4' }) capacityToPayShareDeducted: string;
  @ApiProperty({ example: 12 }) subsistenceMonths: number;
  @ApiProperty({ example: 6 }) assetProtectionMonths: number;
  @ApiProperty({ type: 'integer', example: 10000, description: 'Recommended amounts are rounded down to a multiple of this, minor units (fen)' }) roundingUnit: number;
}

class ManualReviewRulesDto {
  @ApiProperty({ type: 'integer', example: 500000, description: 'minor units (fen)' }) minimumOutOfPocket: number;
  @ApiProperty({ example: 18 }) maxPatientAgeYears: number;
  @ApiProperty() flagVehicle: boolean;
  @ApiProperty() flagExtraProperty: boolean;
  @ApiProperty() flagOtherOpenApplication: boolean;
}

class TrancheSplitDto {
  @ApiProperty({ example: 'full' }) label: string;
  @ApiProperty({ example: '1', description: 'Decimal string; the shares of a plan sum to exactly 1' }) share: string;
}

class TranchePlansDto {
  @ApiProperty({ type: [TrancheSplitDto] }) hsct: TrancheSplitDto[];
  @ApiProperty({ type: [TrancheSplitDto] }) ist: TrancheSplitDto[];
  @ApiProperty({ type: [TrancheSplitDto] }) supportive: TrancheSplitDto[];
}

export class MeansPolicyBodyDto {
  @ApiProperty({ type: [MinimumLivingStandardDto] }) minimumLivingStandards: MinimumLivingStandardDto[];
  @ApiProperty({ type: TierSharesDto, description: `Share of the gap paid per tier (${GRANT_TIERS.join(', ')})` }) shares: TierSharesDto;
  @ApiProperty({ type: PlanCapsDto, description: `Cap per treatment plan (${TREATMENT_PLANS.join(', ')})` }) caps: PlanCapsDto;
  @ApiProperty({ type: ThresholdsDto }) thresholds: ThresholdsDto;
  @ApiProperty({ type: ManualReviewRulesDto }) manualReview: ManualReviewRulesDto;
  @ApiProperty({ type: TranchePlansDto }) tranches: TranchePlansDto;
}

export class MeansPolicyVersionDto {
  @ApiProperty({ example: 1 }) version: number;
  @ApiProperty({ type: MeansPolicyBodyDto }) policy: MeansPolicy;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;

  static from(row: MeansPolicyVersion): MeansPolicyVersionDto {
    return { version: row.version, policy: row.policy, createdAt: row.createdAt.toISOString() };
  }
}

/** Policy versions are an int4 column: a larger number reached PostgreSQL as an out-of-range error (500). */
export const MAX_POLICY_VERSION = 2_147_483_647;

/** `?version=`: a query DTO like every other, so a bad value is 400 validation-failed naming it (Nest's ParseIntPipe answered another shape). */
export class PolicyVersionQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_POLICY_VERSION, description: 'An earlier version; the current one when left out' })
  // Empty is left out (as EmptyAsAbsent, which @Type's conversion would run after); a repeated one stays a list and fails.
  // Digits only: Number() would also read 0x10, 1e1 and +3.
  @Transform(({ value }: { value: unknown }) => (value === '' ? undefined : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsOptional()
  @ValidateBy({
    name: 'isPolicyVersion',
    validator: { validate: (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_POLICY_VERSION },
  }, { message: `version must be an integer from 1 to ${MAX_POLICY_VERSION}` })
  version?: number;
}
