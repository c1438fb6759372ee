import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { APPLICATION_STATUSES } from 'src/applications/application-status';
import type { ApplicationStatus } from 'src/applications/application-status';
import { IsReadableText } from 'src/common/validation/text-fields';

export const MAX_APPROVAL = 1_000_000_000_000;

export class RequestInfoDto {
  @ApiProperty({ description: 'What the family must add or correct; shown to them in the app (GET /applications/{id}/info-requests), never emailed: the email says only that a question is waiting', minLength: 1, maxLength: 2000 })
  @IsReadableText(2000)
  message: string;
}

export class ApproveDto {
  @ApiProperty({
    description: 'Granted amount, minor units (fen). At most the policy cap of the treatment plan; at or above the second-approval threshold a second reviewer must confirm the same amount.',
    type: 'integer',
    minimum: 1,
    maximum: MAX_APPROVAL,
    example: 10_000_000,
  })
  @IsInt({ message: 'amount must be an integer number of fen' }) @Min(1) @Max(MAX_APPROVAL)
  amount: number;

  @ApiPropertyOptional({ description: 'Internal note for the record (not emailed); blank means none', maxLength: 2000 })
  // A note left blank in a form arrives as "": no note, not a validation error.
  @IsReadableText(2000, { optional: true })
  comment?: string;
}

export class RejectDto {
  @ApiProperty({ description: 'Why; emailed to the family as written', minLength: 1, maxLength: 2000 })
  @IsReadableText(2000)
  reason: string;
}

export class ReviewResultDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'SPR-2026-000123' }) reference: string;
  @ApiProperty({ enum: APPLICATION_STATUSES }) status: ApplicationStatus;
  @ApiProperty({ description: 'The new version (If-Match of the next change)' }) version: number;
  @ApiPropertyOptional({ format: 'uuid', description: 'The recorded decision (approvals and rejections)' }) decisionId?: string;
  @ApiPropertyOptional({ description: 'Approved amount, minor units (fen)', type: 'integer' }) amount?: number;
}
