import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { APPLICATION_STATUSES } from 'src/applications/application-status';
import type { ApplicationStatus } from 'src/applications/application-status';

export const MAX_APPROVAL = 1_000_000_000_000;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
// An optional note left blank in a form arrives as "": no note, not a validation error.
const trimToAbsent = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() || undefined : value);
// Free text read by people and sent in emails: any printable text, line breaks allowed, no other control characters.
const PRINTABLE = /^[^\u0000-\u0009\u000B\u000C\u000E-\u001F\u007F]*$/;

export class RequestInfoDto {
  @ApiProperty({ description: 'What the family must add or correct; shown to them in the app (GET /applications/{id}/info-requests), never emailed: the email says only that a question is waiting', minLength: 1, maxLength: 2000 })
  @Transform(trim) @IsString() @MinLength(1, { message: 'message is required' }) @MaxLength(2000)
  @Matches(PRINTABLE, { message: 'message must not contain control characters' })
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
  @IsOptional() @Transform(trimToAbsent) @IsString() @MinLength(1) @MaxLength(2000)
  @Matches(PRINTABLE, { message: 'comment must not contain control characters' })
  comment?: string;
}

export class RejectDto {
  @ApiProperty({ description: 'Why; emailed to the family as written', minLength: 1, maxLength: 2000 })
  @Transform(trim) @IsString() @MinLength(1, { message: 'reason is required' }) @MaxLength(2000)
  @Matches(PRINTABLE, { message: 'reason must not contain control characters' })
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
