import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MeansAssessmentRecord } from 'src/assessment/means-assessment-record.entity';
import type { ManualReviewReason, MeansTier } from 'src/assessment/means-assessment';

const TIERS = ['A', 'B', 'C', 'ineligible'];
const REASONS: ManualReviewReason[] = ['owns_vehicle', 'owns_extra_property', 'low_out_of_pocket', 'patient_over_age', 'duplicate_child_application'];
const FEN = 'minor units (fen)';

export class MinimumLivingStandardUsedDto {
  @ApiProperty({ example: 'CN' }) region: string;
  @ApiProperty({ enum: ['urban', 'rural'] }) hukouType: string;
  @ApiProperty({ type: 'integer', example: 59390, description: `Per person per month, ${FEN}` }) monthlyAmount: number;
}

/** A grant made to the same child in another application: its reference, status now, amount and when it was approved. */
export class EarlierGrantDto {
  @ApiProperty({ example: 'SPR-2025-000042' }) reference: string;
  @ApiProperty({ example: 'completed', description: 'The other application\'s status now' }) status: string;
  @ApiProperty({ type: 'integer', example: 10000000, description: `Amount approved, ${FEN}` }) amount: number;
  @ApiProperty({ format: 'date-time' }) approvedAt: string;
}

/**
 * The means assessment. Reviewers and admins get every figure; the family too, for its own application (API.md), but
 * for one manual-review reason; fund finance only the outcome (tier and recommended amount).
 * While a draft lacks inputs the status is "incomplete", `missing` names them and the figures are null.
 */
export class AssessmentDto {
  @ApiProperty({ enum: ['complete', 'incomplete'] }) status: 'complete' | 'incomplete';
  @ApiProperty({ example: 1 }) policyVersion: number;
  @ApiProperty({ enum: TIERS, nullable: true, type: String }) tier: MeansTier | null;
  @ApiProperty({ nullable: true, type: 'integer', description: `Rounded down to the policy's rounding unit, ${FEN}` }) recommendedAmount: number | null;
  @ApiProperty({ type: [String], example: [], description: 'Application fields the assessment still needs' }) missing: string[];
  @ApiProperty({ type: String, format: 'date-time' }) computedAt: string;
  @ApiPropertyOptional({ nullable: true, type: 'integer', description: FEN }) outOfPocket?: number | null;
  @ApiPropertyOptional({ nullable: true, type: 'integer', description: FEN }) subsistence?: number | null;
  @ApiPropertyOptional({ nullable: true, type: 'integer', description: FEN }) countableAssets?: number | null;
  @ApiPropertyOptional({ nullable: true, type: 'integer', description: FEN }) capacityToPay?: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number, description: 'OOP / CTP to 4 decimals; null when the capacity to pay is 0 (or incomplete)' })
  burdenRatio?: number | null;
  @ApiPropertyOptional({ nullable: true, type: 'integer', description: FEN }) monthlyPerCapitaIncome?: number | null;
  @ApiPropertyOptional({ nullable: true, type: MinimumLivingStandardUsedDto }) minimumLivingStandard?: MinimumLivingStandardUsedDto | null;
  @ApiPropertyOptional({ enum: REASONS, isArray: true }) manualReviewReasons?: ManualReviewReason[];
  @ApiPropertyOptional({
    type: [String],
    example: ['SPR-2026-000117'],
    description: 'Reviewers and admins: other applications open now for the same child (submitted at least once, not in a final status), whatever the assessment found when computed',
  })
  otherOpenApplications?: string[];
  @ApiPropertyOptional({
    type: [EarlierGrantDto],
    description: "Reviewers and admins: grants made to the same child (same national id) in its other applications, oldest first, whatever their status now (up to 20)",
  })
  earlierGrants?: EarlierGrantDto[];
  @ApiPropertyOptional({
    type: 'integer',
    description: 'Reviewers and admins: how many more applications open for the same child there are, which the reader has a conflict of interest in (not named to them; a colleague can look into them)',
  })
  otherOpenApplicationsWithheld?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'Reviewers and admins: how many more grants to the same child there are, in applications the reader has a conflict of interest in' })
  earlierGrantsWithheld?: number;

  /**
   * Everything, with the duplicate-child reason as of now: the stored assessment knew only the applications open when
   * it was computed, and another guardian may have applied for the same child since (or withdrawn). An application the
   * reader may not see still counts: the flag is what tells them to hand the case to a colleague.
   */
  static forStaff(
    record: MeansAssessmentRecord,
    now: { otherOpenApplications: string[]; otherOpenApplicationsWithheld: number; earlierGrants: EarlierGrantDto[]; earlierGrantsWithheld: number; flagOtherOpenApplication: boolean },
  ): AssessmentDto {
    const dto = AssessmentDto.withWorking(record, (reason) => reason !== 'duplicate_child_application');
    const otherOpen = now.otherOpenApplications.length + now.otherOpenApplicationsWithheld;
    if (record.result && now.flagOtherOpenApplication && otherOpen > 0) dto.manualReviewReasons!.push('duplicate_child_application');
    return {
      ...dto,
      otherOpenApplications: now.otherOpenApplications,
      otherOpenApplicationsWithheld: now.otherOpenApplicationsWithheld,
      earlierGrants: now.earlierGrants,
      earlierGrantsWithheld: now.earlierGrantsWithheld,
    };
  }

  /**
   * The family's own figures and how they were worked out — it entered them, and may ask how an automated assessment
   * reached its result (PIPL Art. 24) — but not that another open application names the same child: that tells of
   * someone else's application (another guardian's, say), which is the reviewers' to look into.
   */
  static forFamily(record: MeansAssessmentRecord): AssessmentDto {
    return AssessmentDto.withWorking(record, (reason) => reason !== 'duplicate_child_application');
  }

  private static withWorking(record: MeansAssessmentRecord, shown: (reason: ManualReviewReason) => boolean): AssessmentDto {
    const r = record.result;
    const standard = r?.minimumLivingStandard;
    return {
      ...AssessmentDto.outcome(record),
      outOfPocket: r?.outOfPocket ?? null,
      subsistence: r?.subsistence ?? null,
      countableAssets: r?.countableAssets ?? null,
      capacityToPay: r?.capacityToPay ?? null,
      burdenRatio: r?.burdenRatio ?? null,
      monthlyPerCapitaIncome: r?.monthlyPerCapitaIncome ?? null,
      minimumLivingStandard: standard ? { region: standard.region, hukouType: standard.hukouType, monthlyAmount: standard.monthlyAmount } : null,
      manualReviewReasons: r ? r.manualReviewReasons.filter(shown) : [],
    };
  }

  /** The outcome without the working, which gives away the household's income, size and assets (fund finance). */
  static outcome(record: MeansAssessmentRecord): AssessmentDto {
    return {
      status: record.complete ? 'complete' : 'incomplete',
      policyVersion: record.policyVersion,
      tier: record.tier,
      recommendedAmount: record.recommendedAmount,
      missing: [...record.missing],
      computedAt: record.computedAt.toISOString(),
    };
  }
}
