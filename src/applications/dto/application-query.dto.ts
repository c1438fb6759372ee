import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { toLowerCase } from 'src/applications/dto/field-validators';
import { APPLICATION_STATUSES } from 'src/applications/application-status';
import type { ApplicationStatus } from 'src/applications/application-status';
import { PageQueryDto } from 'src/common/pagination/pagination';
import type { MeansTier } from 'src/assessment/means-assessment';
import { EmptyAsAbsent } from 'src/common/validation/empty-as-absent';

const TIERS = ['A', 'B', 'C', 'ineligible'] as const;

export class ApplicationReadQueryDto {
  @ApiPropertyOptional({ enum: ['nationalIds'], description: 'Staff: the national ids whole rather than masked; audited' })
  @IsOptional() @EmptyAsAbsent() @IsIn(['nationalIds'])
  reveal?: 'nationalIds';
}

export class ApplicationQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: APPLICATION_STATUSES, description: 'With status=submitted the list is the review queue: oldest first submission first (an application answered after a question keeps its place)' })
  @IsOptional() @EmptyAsAbsent() @IsIn(APPLICATION_STATUSES)
  status?: ApplicationStatus;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @EmptyAsAbsent() @Transform(toLowerCase) @IsUUID()
  hospitalId?: string;

  @ApiPropertyOptional({ enum: TIERS, description: 'Tier of the latest means assessment (not for hospital finance)' })
  @IsOptional() @EmptyAsAbsent() @IsIn(TIERS)
  tier?: MeansTier;
}
