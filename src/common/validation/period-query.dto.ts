import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsOptional, Matches } from 'class-validator';
import { EmptyAsAbsent } from 'src/common/validation/empty-as-absent';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A period of days (Asia/Shanghai calendar), both ends included; either end may be left open. */
export class PeriodQueryDto {
  @ApiPropertyOptional({ example: '2026-01-01', description: 'First day included (Asia/Shanghai calendar)' })
  @IsOptional() @EmptyAsAbsent() @Matches(DATE, { message: 'from must be a date YYYY-MM-DD' }) @IsDateString({ strict: true })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-31', description: 'Last day included (Asia/Shanghai calendar)' })
  @IsOptional() @EmptyAsAbsent() @Matches(DATE, { message: 'to must be a date YYYY-MM-DD' }) @IsDateString({ strict: true })
  to?: string;
}
