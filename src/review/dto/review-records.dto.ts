import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { APPLICATION_STATUSES } from 'src/applications/application-status';
import type { ApplicationStatus } from 'src/applications/application-status';
import { ROLES } from 'src/common/auth/roles';
import type { Role } from 'src/common/auth/roles';
import { Decision, DECISION_KINDS, DecisionKind } from 'src/review/decision.entity';

export class DecisionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: DECISION_KINDS }) kind: DecisionKind;
  @ApiPropertyOptional({ format: 'uuid', description: 'Staff only: the family reads the role, not who' }) reviewerId?: string;
  @ApiProperty({ enum: ROLES }) reviewerRole: Role;
  @ApiProperty({ enum: APPLICATION_STATUSES }) fromStatus: ApplicationStatus;
  @ApiProperty({ enum: APPLICATION_STATUSES }) toStatus: ApplicationStatus;
  @ApiPropertyOptional({ description: 'minor units (fen); approvals only', type: 'integer', nullable: true }) amount: number | null;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: "The reviewer's note for the record; null for the family and for roles that may not read the application's sections (fund finance)",
  })
  comment: string | null;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: "Rejections only, as emailed to the family; null for roles that may not read the application's sections (fund finance)",
  })
  reason: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) decidedAt: string;

  /**
   * `freeText`: whether the reader may see the comment and reason, which the reviewer wrote from the sections.
   * `family`: the applicant reads its decisions as it reads its history — roles, not who — and the rejection's reason
   * (written to be emailed to it), not the reviewer's comment for the record.
   */
  static from(d: Decision, { freeText, family }: { freeText: boolean; family: boolean }): DecisionDto {
    const dto: DecisionDto = {
      id: d.id,
      kind: d.kind,
      reviewerRole: d.reviewerRole,
      fromStatus: d.fromStatus,
      toStatus: d.toStatus,
      amount: d.amount,
      comment: freeText && !family ? d.comment : null,
      reason: freeText ? d.reason : null,
      decidedAt: d.decidedAt.toISOString(),
    };
    if (!family) dto.reviewerId = d.reviewerId;
    return dto;
  }
}

export class DecisionListDto {
  @ApiProperty({ type: [DecisionDto], description: 'Oldest first' }) items: DecisionDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Cursor of the next page (limit, default 100), or null' }) nextCursor: string | null;
}

export class InfoRoundDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() message: string;
  @ApiProperty({ format: 'uuid' }) requestedBy: string;
  @ApiProperty({ type: String, format: 'date-time' }) requestedAt: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'When the family resubmitted; null while unanswered' })
  resubmittedAt: string | null;
  @ApiProperty({
    type: [String],
    example: ['documents.income_proof', 'household.annualIncome'],
    description: 'Field paths set, changed or cleared since the request (documents.<type> when documents were added); never values',
  })
  changedFields: string[];
}

/** A reviewer's question as the family reads it in the app (the email only says that there is one). */
export class InfoRequestDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: '请补充最近三个月的收入证明。' }) message: string;
  @ApiProperty({ type: String, format: 'date-time' }) requestedAt: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'When the family resubmitted; null while unanswered' })
  resubmittedAt: string | null;
}

export class InfoRequestListDto {
  @ApiProperty({ type: [InfoRequestDto], description: 'Every information request, oldest first' }) items: InfoRequestDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Cursor of the next page (limit, default 100), or null' }) nextCursor: string | null;
}

export class ChangesDto {
  @ApiProperty({ type: [InfoRoundDto], description: 'Every information request, oldest first' }) rounds: InfoRoundDto[];
}

export class HistoryEventDto {
  @ApiProperty({ description: 'Position in the audit trail' }) id: string;
  @ApiProperty({ type: String, format: 'date-time' }) occurredAt: string;
  @ApiProperty({ example: 'application.approved' }) action: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'null for the system' }) actorRole: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'Staff only' }) actorId?: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Statuses, amounts (fen), field names; no sensitive values' })
  summary: Record<string, unknown>;
}

export class HistoryPageDto {
  @ApiProperty({ type: [HistoryEventDto] }) items: HistoryEventDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
