import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsISO8601, IsOptional, IsString, IsUUID, Matches, MinLength, ValidateBy, ValidationOptions } from 'class-validator';
import { MaxChars } from 'src/common/validation/max-chars';
import { toLowerCase } from 'src/applications/dto/field-validators';
import { PageQueryDto } from 'src/common/pagination/pagination';
import { IsReadableText } from 'src/common/validation/text-fields';
import { DISBURSEMENT_STATUSES, DisbursementStatus } from 'src/disbursements/disbursement.entity';
import { FUND_TIME_ZONE, isCalendarDate, todayIn } from 'src/fund/calendar-date';
import { EmptyAsAbsent } from 'src/common/validation/empty-as-absent';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
// A query string is text: only the words true and false become booleans, anything else fails IsBoolean.
const queryBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);
const NO_CONTROL_CHARACTERS = /^[^\p{Cc}]+$/u;
const EARLIEST_DATE = '2000-01-01';

/** A real `YYYY-MM-DD` date from 2000 up to today in the fund's time zone (a transfer is recorded after it was made). */
function IsPastDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPastDate',
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

export class PayDisbursementDto {
  @ApiProperty({ format: 'date', example: '2026-09-15', description: 'Day the bank transfer was made (Asia/Shanghai); not in the future, nor before the day the grant was approved' })
  @IsPastDate()
  paidOn: string;

  @ApiProperty({ example: 'ICBC-TRF-20260915-0042', maxLength: 100, description: "The fund's bank's reference of the transfer" })
  @Transform(trim) @IsString() @MinLength(1) @MaxChars(100)
  @Matches(NO_CONTROL_CHARACTERS, { message: 'bankReference must not contain control characters' })
  // Emailed to the hospital's finance office to find the transfer by: one of invisible or reordering characters
  // reached it as a blank, or as text shown in another order.
  @Matches(/^\P{Cf}*$/u, { message: 'bankReference must not contain invisible format characters (zero-width spaces, direction marks, soft hyphens)' })
  @Matches(/[\p{L}\p{N}]/u, { message: 'bankReference must contain a letter or digit' })
  bankReference: string;
}

export class ReasonDto {
  @ApiProperty({ example: 'Treatment plan changed', minLength: 1, maxLength: 1000 })
  @IsReadableText(1000)
  reason: string;
}

/** The bank returned a payment: why, and the day it did (fund finance may record it days later). */
export class ReturnDto extends ReasonDto {
  @ApiProperty({
    example: 'Account closed',
    minLength: 1,
    maxLength: 1000,
    description: "Emailed as written to the hospital's finance office (tranche-returned-hospital), not to the family.",
  })
  declare reason: string;

  @ApiPropertyOptional({
    format: 'date',
    example: '2026-09-29',
    description: 'Day the bank returned the payment (Asia/Shanghai); default today. Not in the future, nor before the day it was paid. A payment made again may be dated from this day.',
  })
  @IsOptional() @IsPastDate()
  returnedOn?: string;
}

/** Cancelling a tranche, or a grant: a reason, and for a tranche already in a payment file, the bank's word. */
export class CancelDto extends ReasonDto {
  @ApiProperty({
    example: 'Treatment plan changed',
    minLength: 1,
    maxLength: 1000,
    description: "Emailed to the family as written (the grant-cancelled or tranche-cancelled email): write it for the family's inbox.",
  })
  declare reason: string;

  @ApiPropertyOptional({
    description:
      'Required (true) when a scheduled tranche to cancel went out in a payment file: confirms the bank has not paid it and will not. ' +
      'Without it such a cancellation is refused (409 tranche-in-payment-file).',
  })
  @IsOptional() @IsBoolean()
  notSentToBank?: boolean;
}

/** Paying a scheduled tranche into the hospital's current account (POST /disbursements/:id/repoint). */
export class RepointDto {
  @ApiPropertyOptional({
    description: 'Required (true) when the tranche went out in a payment file: confirms the bank has not paid it and will not (409 tranche-in-payment-file otherwise).',
  })
  @IsOptional() @IsBoolean()
  notSentToBank?: boolean;
}

export class DisbursementQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DISBURSEMENT_STATUSES })
  @IsOptional() @EmptyAsAbsent() @IsIn(DISBURSEMENT_STATUSES)
  status?: DisbursementStatus;

  @ApiPropertyOptional({ format: 'uuid', description: 'hospital_finance: only its own hospital (another → 403)' })
  @IsOptional() @EmptyAsAbsent() @Transform(toLowerCase) @IsUUID()
  hospitalId?: string;

  @ApiPropertyOptional({
    type: Boolean,
    description: "true: only tranches still to be paid whose payee is no longer the hospital's bank account (to repoint, or reschedule); false: all others",
  })
  @IsOptional() @EmptyAsAbsent() @Transform(queryBoolean) @IsBoolean({ message: 'payeeOutdated must be true or false' })
  payeeOutdated?: boolean;
}

export const OUTDATED_PAYEE_HANDLING = ['refuse', 'exclude', 'include'] as const;
export type OutdatedPayeeHandling = (typeof OUTDATED_PAYEE_HANDLING)[number];
export const ALREADY_EXPORTED_HANDLING = ['exclude', 'include'] as const;
export type AlreadyExportedHandling = (typeof ALREADY_EXPORTED_HANDLING)[number];

const EXPORTED_AT_FORM = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

export class ExportQueryDto {
  @ApiPropertyOptional({ enum: DISBURSEMENT_STATUSES, default: 'scheduled' })
  @IsOptional() @EmptyAsAbsent() @IsIn(DISBURSEMENT_STATUSES)
  status: DisbursementStatus = 'scheduled';

  @ApiPropertyOptional({ enum: ['csv'], default: 'csv' })
  @IsOptional() @EmptyAsAbsent() @IsIn(['csv'])
  format: 'csv' = 'csv';

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @EmptyAsAbsent() @Transform(toLowerCase) @IsUUID()
  hospitalId?: string;

  @ApiPropertyOptional({
    enum: OUTDATED_PAYEE_HANDLING,
    default: 'exclude',
    description:
      "A payment file's scheduled tranches whose payee is no longer the hospital's bank account (payeeOutdated): exclude (the default) → the " +
      'file without them (header Outdated-Payees-Excluded counts them; repoint them, then export again); refuse → 409 payees-outdated naming ' +
      'them, nothing exported; include → in the file, to the account they were scheduled with. Their audit event names them either way.',
  })
  @IsOptional() @EmptyAsAbsent() @IsIn(OUTDATED_PAYEE_HANDLING)
  // Left out by default: the file API.md promises still comes, and one hospital's corrected account holds up no other payment.
  outdatedPayees: OutdatedPayeeHandling = 'exclude';

  @ApiPropertyOptional({
    enum: ALREADY_EXPORTED_HANDLING,
    default: 'exclude',
    description:
      'Scheduled tranches already in an earlier payment file (exportedAt set): exclude (the default) → left out (header Already-Exported-Excluded ' +
      'counts them), so the next file holds only the payments not yet sent; include → in the file again, those of every earlier file (the bank ' +
      'pays twice what it received before). To replace one file that never reached the bank, use reissue.',
  })
  @IsOptional() @EmptyAsAbsent() @IsIn(ALREADY_EXPORTED_HANDLING)
  // Left out by default: tranches stay scheduled until their payment is recorded, often days after the file went to the
  // bank, so the next day's file would otherwise ask the bank to pay them again.
  alreadyExported: AlreadyExportedHandling = 'exclude';

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2026-12-07T02:30:00.000Z',
    description:
      "An earlier payment file's exportedAt (its tranches' stamp, and its audit event's): that file again, for one that never reached the bank — " +
      'its tranches still scheduled, nothing stamped anew; payees changed since follow outdatedPayees. status must be scheduled.',
  })
  // The form exportedAt is written in, with its offset: ISO 8601's other forms (week and ordinal dates, the basic form)
  // pass IsISO8601 but not Date's parser, and without an offset the server's own time zone would say which instant.
  @IsOptional() @EmptyAsAbsent()
  @Matches(EXPORTED_AT_FORM, { message: 'reissue must be an exportedAt date-time, e.g. 2026-12-07T02:30:00.000Z' })
  @IsISO8601({ strict: true }, { message: 'reissue must be an exportedAt date-time, e.g. 2026-12-07T02:30:00.000Z' })
  reissue?: string;
}

export class PayeeDto {
  @ApiProperty() bankName: string;
  @ApiProperty() accountName: string;
  @ApiProperty() accountNumber: string;
}

export class DisbursementDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) applicationId: string;
  @ApiProperty({ format: 'uuid' }) hospitalId: string;
  @ApiProperty({ example: 'SPR-2026-000123-1', description: 'The reference the bank transfer must carry in its remittance text' })
  reference: string;
  @ApiProperty({ type: 'integer', example: 1 }) trancheNumber: number;
  @ApiProperty({ type: 'integer', example: 2 }) trancheCount: number;
  @ApiProperty({ example: 'full' }) label: string;
  @ApiProperty({ type: 'integer', description: 'minor units (fen)' }) amount: number;
  @ApiProperty({ example: 'CNY' }) currency: string;
  @ApiProperty({ enum: DISBURSEMENT_STATUSES }) status: DisbursementStatus;
  @ApiPropertyOptional({
    type: PayeeDto,
    description: "The hospital's bank account as it was when the tranche was scheduled: for admins, fund finance and the hospital's own finance office",
  })
  payee?: PayeeDto;
  @ApiPropertyOptional({ type: String, format: 'date', nullable: true }) paidOn: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) bankReference: string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) paidAt: string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) reconciledAt: string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) cancelledAt: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) cancelReason: string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'When the tranche last went out in a payment file (GET /disbursements/export) while scheduled' })
  exportedAt: string | null;
  @ApiProperty({
    description:
      "Still to be paid (scheduled or returned) and its payee is no longer the hospital's bank account: an admin changed it since. " +
      'Fund finance moves a scheduled one with POST /disbursements/{id}/repoint; rescheduling a returned one takes the current account. ' +
      'Always false once paid, reconciled or cancelled (the payee is where the money went).',
  })
  payeeOutdated: boolean;
  @ApiProperty({ type: 'integer' }) version: number;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt: string;
}

export class DisbursementPageDto {
  @ApiProperty({ type: [DisbursementDto] }) items: DisbursementDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class ApplicationCancelledDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['cancelled'] }) status: 'cancelled';
  @ApiProperty({ type: 'integer' }) version: number;
  @ApiProperty({ type: 'integer', description: 'Amount returned to the fund\'s available balance, minor units (fen)' }) released: number;
  @ApiProperty({ type: [DisbursementDto], description: 'Every tranche of the grant after the cancellation' }) disbursements: DisbursementDto[];
}
