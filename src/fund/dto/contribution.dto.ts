import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateBy, ValidationOptions } from 'class-validator';
import { FUND_TIME_ZONE, isCalendarDate, todayIn } from 'src/fund/calendar-date';
import { Contribution } from 'src/fund/contribution.entity';
import { MAX_MOVEMENT } from 'src/fund/ledger-movements';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const EARLIEST_DATE = '2000-01-01';

/** A real `YYYY-MM-DD` date from 2000 up to today in the fund's time zone. */
function IsReceivedDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isReceivedDate',
      validator: {
        validate: (value: unknown) => isCalendarDate(value) && value >= EARLIEST_DATE && value <= todayIn(FUND_TIME_ZONE),
        defaultMessage: (args) =>
          !isCalendarDate(args?.value)
            ? `${args?.property} must be a real date as YYYY-MM-DD`
            : `${args?.property} must be between ${EARLIEST_DATE} and today (it cannot be in the future)`,
      },
    },
    options,
  );
}

export class CreateContributionDto {
  @ApiProperty({ description: 'Amount received, minor units (fen)', type: 'integer', minimum: 1, maximum: MAX_MOVEMENT, example: 100000000 })
  @IsInt({ message: 'amount must be an integer number of fen' }) @Min(1) @Max(MAX_MOVEMENT)
  amount: number;

  @ApiProperty({ example: '上海某慈善基金会', maxLength: 200 })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  donorName: string;

  @ApiProperty({ format: 'date', example: '2026-09-15', description: 'Day the money arrived; not in the future (Asia/Shanghai)' })
  @IsReceivedDate()
  receivedOn: string;

  @ApiProperty({ example: 'ICBC-20260915-000123', maxLength: 100, description: 'Bank or receipt reference; unique across contributions' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(100)
  @Matches(/^[^\p{Cc}]+$/u, { message: 'reference must not contain control characters' })
  reference: string;
}

export class ContributionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'minor units (fen)', type: 'integer' }) amount: number;
  @ApiProperty() donorName: string;
  @ApiProperty({ format: 'date' }) receivedOn: string;
  @ApiProperty() reference: string;
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String }) recordedBy: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;

  static from(c: Contribution): ContributionDto {
    return {
      id: c.id,
      amount: c.amount,
      donorName: c.donorName,
      receivedOn: c.receivedOn,
      reference: c.reference,
      recordedBy: c.recordedBy,
      createdAt: c.createdAt.toISOString(),
    };
  }
}

export class ContributionPageDto {
  @ApiProperty({ type: [ContributionDto] }) items: ContributionDto[];
  @ApiPropertyOptional({ type: String, nullable: true }) nextCursor: string | null;
}
