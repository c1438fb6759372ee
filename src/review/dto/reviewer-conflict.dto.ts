import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { ReviewerConflict } from 'src/review/reviewer-conflict.entity';

export class CreateReviewerConflictDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'The family account (applicant) the reviewer is linked to. Exactly one of applicantId, hospitalId.' })
  @IsOptional() @IsUUID()
  applicantId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A hospital the reviewer works for. Exactly one of applicantId, hospitalId.' })
  @IsOptional() @IsUUID()
  hospitalId?: string;
}

export class ReviewerConflictDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) reviewerId: string;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) applicantId: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) hospitalId: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) createdBy: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;

  static from(c: ReviewerConflict): ReviewerConflictDto {
    return {
      id: c.id,
      reviewerId: c.reviewerId,
      applicantId: c.applicantId,
      hospitalId: c.hospitalId,
      createdBy: c.createdBy,
      createdAt: c.createdAt.toISOString(),
    };
  }
}

export class ReviewerConflictListDto {
  @ApiProperty({ type: [ReviewerConflictDto] }) items: ReviewerConflictDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Cursor of the next page (limit, default 100), or null' }) nextCursor: string | null;
}
