import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Matches, Max, Min, MinLength, ValidateBy, ValidationOptions } from 'class-validator';
import { PageQueryDto } from 'src/common/pagination/pagination';
import { PeriodQueryDto } from 'src/common/validation/period-query.dto';
import { MaxChars } from 'src/common/validation/max-chars';
import { IsPersonName, IsReadableText } from 'src/common/validation/text-fields';
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

  @ApiProperty({ example: '上海某慈善基金会', maxLength: 200, description: 'A person or an organisation; white space made one space, invisible characters removed' })
  // As every name: a control character or a direction override here was stored and shown in reports as sent.
  @IsPersonName(200)
  donorName: string;

  @ApiProperty({ format: 'date', example: '2026-09-15', description: 'Day the money arrived; not in the future (Asia/Shanghai)' })
  @IsReceivedDate()
  receivedOn: string;

  @ApiProperty({
    example: 'ICBC-20260915-000123',
    maxLength: 100,
    description:
      'Bank or receipt reference, unique across contributions that are not reversed, however it is written: compared ' +
      'after Unicode NFKC (full-width letters and digits are ASCII), ignoring white space, dashes and letter case. ' +
      'No control or invisible format characters (zero-width spaces, direction marks, soft hyphens)',
  })
  @Transform(trim) @IsString() @MinLength(1) @MaxChars(100)
  @Matches(/^[^\p{Cc}]+$/u, { message: 'reference must not contain control characters' })
  // Invisible, so the same receipt typed again would not look like itself; and a pasted one carries them by accident.
  @Matches(/^\P{Cf}*$/u, { message: 'reference must not contain invisible format characters (zero-width spaces, direction marks, soft hyphens)' })
  @Matches(/[\p{L}\p{N}]/u, { message: 'reference must contain a letter or digit' })
  reference: string;
}

export class ReverseContributionDto {
  @ApiProperty({ example: 'Recorded in fen instead of yuan; recorded again as ICBC-20260915-000123', minLength: 1, maxLength: 1000 })
  @IsReadableText(1000)
  reason: string;
}

export class ContributionReversalDto {
  @ApiProperty({ type: String, format: 'date-time' }) reversedAt: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) reversedBy: string | null;
  @ApiProperty() reason: string;
}

export class ContributionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'minor units (fen)', type: 'integer' }) amount: number;
  @ApiProperty() donorName: string;
  @ApiProperty({ format: 'date' }) receivedOn: string;
  @ApiProperty() reference: string;
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String }) recordedBy: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: 'True once reversed: its amount went back out of the fund (POST /fund/contributions/{id}/reverse)' })
  reversed: boolean;
  @ApiProperty({ type: ContributionReversalDto, nullable: true, description: 'Who reversed it, when and why; null when not reversed' })
  reversal: ContributionReversalDto | null;

  static from(c: Contribution): ContributionDto {
    const r = c.reversal ?? null;
    return {
      id: c.id,
      amount: c.amount,
      donorName: c.donorName,
      receivedOn: c.receivedOn,
      reference: c.reference,
      recordedBy: c.recordedBy,
      createdAt: c.createdAt.toISOString(),
      reversed: r !== null,
      reversal: r && { reversedAt: r.reversedAt.toISOString(), reversedBy: r.reversedBy, reason: r.reason },
    };
  }
}

export class ContributionPageDto {
  @ApiProperty({ type: [ContributionDto] }) items: ContributionDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

/** A period of days received; either end may be left open. */
export class ContributionPeriodDto extends PeriodQueryDto {}

export class ContributionQueryDto extends IntersectionType(PageQueryDto, ContributionPeriodDto) {}

export class CountAndAmountDto {
  @ApiProperty({ type: 'integer' }) count: number;
  @ApiProperty({ type: 'integer', description: 'Minor units (fen)' }) amount: number;
}

/** A month's (or any period's) donations, for fund finance's books. */
export class ContributionTotalsDto {
  @ApiPropertyOptional({ type: String, nullable: true }) from: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) to: string | null;
  @ApiProperty({ type: CountAndAmountDto, description: 'Donations received in the period (by receivedOn), reversed later or not' }) received: CountAndAmountDto;
  @ApiProperty({ type: CountAndAmountDto, description: 'Reversals made in the period (by the China day of reversedAt), of donations received whenever' }) reversed: CountAndAmountDto;
  @ApiProperty({ type: 'integer', description: 'received − reversed, fen' }) net: number;
}
