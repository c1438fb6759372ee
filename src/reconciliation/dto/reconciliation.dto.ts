import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { toLowerCase } from 'src/applications/dto/field-validators';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from 'src/common/pagination/pagination';
import type { MatchStatus } from 'src/reconciliation/matching';
import { EmptyAsAbsent } from 'src/common/validation/empty-as-absent';
import { IsReadableText } from 'src/common/validation/text-fields';

export const ENTRY_STATUSES: readonly MatchStatus[] = ['matched', 'mismatched', 'unmatched', 'duplicate', 'ignored'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class StatementUploadDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'fund_finance/admin: required (before or after the file part). hospital_finance: omit or its own (another → 403).' })
  hospitalId?: string;

  @ApiProperty({ type: 'string', format: 'binary', description: 'camt.053 (001.02–001.13) or CSV date,amount,currency,reference,counterparty,description; told apart by content' })
  file: unknown;
}

export class StatementSummaryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) hospitalId: string;
  @ApiProperty({ enum: ['camt.053', 'csv'] }) format: 'camt.053' | 'csv';
  @ApiProperty({ type: 'integer' }) entries: number;
  @ApiProperty({ type: 'integer' }) matched: number;
  @ApiProperty({ type: 'integer', description: 'Entries neither matched, mismatched nor duplicate, including the `ignored` ones' }) unmatched: number;
  @ApiProperty({ type: 'integer', description: 'A Sprout reference of this hospital with another amount, or money sent back: a debit or reversal naming paid or reconciled tranches, and a credit for a tranche such a debit names (in this file or one imported before)' }) mismatched: number;
  @ApiProperty({ type: 'integer', description: 'Seen before (this file or an earlier statement), or about a tranche already reconciled' }) duplicates: number;
  @ApiProperty({ type: 'integer', description: 'Of `unmatched`: entries that can never match (debits, other currencies, reversals, not booked). A booked CNY debit or reversal naming a paid or reconciled tranche is not ignored but `mismatched`: the payment may have been sent back' }) ignored: number;
  @ApiProperty({ description: 'sha256 of the file, hex' }) sha256: string;
  @ApiPropertyOptional({ type: String, nullable: true }) fileName: string | null;
  @ApiProperty({ type: 'integer' }) sizeBytes: number;
  @ApiProperty({ type: [String], description: 'camt.053 Stmt/Id values' }) statementIds: string[];
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Account of the (first) statement: IBAN or other id' }) account: string | null;
  @ApiProperty({ format: 'uuid' }) importedBy: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
}

export class StatementLeftOutDto {
  @ApiProperty({ example: '7919', description: "The last four characters of the statement's account" }) accountEnding: string;
  @ApiProperty({ type: 'integer', description: 'Its entries, none imported' }) entries: number;
}

export class StatementImportedDto extends StatementSummaryDto {
  @ApiProperty({
    type: [StatementLeftOutDto],
    description: "Statements of the file for accounts that are not the hospital's (a bank's export of several accounts): left out, their entries not imported. Empty as a rule.",
  })
  statementsLeftOut: StatementLeftOutDto[];
}

export class EntryResolutionDto {
  @ApiProperty() note: string;
  @ApiProperty({ format: 'uuid' }) resolvedBy: string;
  @ApiProperty({ format: 'date-time' }) resolvedAt: string;
}

export class StatementItemDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: 'integer', description: '0-based position in the file' }) position: number;
  @ApiProperty({ description: '"line 12" (CSV) or "Stmt[1]/Ntry[3]" (camt.053)' }) location: string;
  @ApiProperty({ format: 'date', description: "The bank's booking date (a camt.053 date-time with an offset, as its day in China time); a camt.053 entry not booked (pending, informational) without one takes its value date, else the statement's creation date" })
  bookingDate: string;
  @ApiProperty({ type: String, format: 'date', nullable: true, description: 'As bookingDate, a date-time with an offset as its day in China time' }) valueDate: string | null;
  @ApiProperty({ type: 'integer', description: "minor units of `currency` (its ISO 4217 digits: fen for CNY, fils for KWD, yen for JPY), positive; see creditDebit" }) amount: number;
  @ApiProperty({ example: 'CNY' }) currency: string;
  @ApiProperty({ enum: ['CRDT', 'DBIT'] }) creditDebit: 'CRDT' | 'DBIT';
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'SPR-2026-000123-1',
    description:
      'The Sprout tranche reference found in the entry (remittance, structured references, end-to-end id or additional information), ' +
      "written canonically: the one of this hospital's tranches it names, else the only one it names; null when it names none, or several " +
      "of which no single one is this hospital's. A manual match sets it to the tranche's. Not a bank's reference: see structuredReferences, " +
      'accountServicerReference and endToEndId.',
  })
  reference: string | null;
  @ApiProperty({
    description:
      "The remittance text: camt.053's unstructured lines (Ustrd) joined with a space; a CSV statement's description column. " +
      'Empty for an ignored entry naming no tranche (not stored), and, for fund finance and admins, for any entry neither naming nor matched to one.',
  })
  remittance: string;
  @ApiProperty({
    type: [String],
    description:
      "The references as the file gives them: camt.053's creditor references (CdtrRefInf/Ref), referred document numbers (RfrdDocInf/Nb) " +
      "and structured additional remittance (Strd/AddtlRmtInf), in file order; a CSV statement's reference column.",
  })
  structuredReferences: string[];
  @ApiProperty({ type: String, nullable: true, description: 'The payer of a credit, the payee of a debit; null where remittance is empty for the same reasons' })
  counterparty: string | null;
  @ApiProperty({ type: String, nullable: true, description: "The bank's own reference for the entry (camt.053 AcctSvcrRef)" }) accountServicerReference: string | null;
  @ApiProperty({ type: String, nullable: true, description: "The payer's end-to-end id (camt.053 Refs/EndToEndId)" }) endToEndId: string | null;
  @ApiProperty({ enum: ENTRY_STATUSES }) status: MatchStatus;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) disbursementId: string | null;
  @ApiProperty({ type: String, enum: ['auto', 'manual'], nullable: true }) matchKind: 'auto' | 'manual' | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) matchedAt: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'A manual match of a credit differing from its tranche: the reason given' }) matchNote: string | null;
  @ApiProperty({
    type: EntryResolutionDto,
    nullable: true,
    description: 'An exception (mismatched, unmatched, duplicate) a person settled: it no longer counts among the report\'s exceptions',
  })
  resolution: EntryResolutionDto | null;
}

export class StatementDetailDto extends StatementSummaryDto {
  @ApiProperty({ type: [StatementItemDto] }) items: StatementItemDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Cursor of the next page of items' }) nextCursor: string | null;
}

export class StatementItemsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit: number = 100;

  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page' })
  @IsOptional() @EmptyAsAbsent() @IsString() @MaxLength(512) @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not a valid cursor' })
  cursor?: string;

  @ApiPropertyOptional({ enum: ENTRY_STATUSES })
  @IsOptional() @EmptyAsAbsent() @IsIn(ENTRY_STATUSES)
  status?: MatchStatus;

  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'true: only resolved exceptions; false: only entries not resolved (with status, the open exceptions)' })
  @IsOptional() @EmptyAsAbsent() @IsIn(['true', 'false'])
  resolved?: 'true' | 'false';
}

export class StatementListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @EmptyAsAbsent() @Transform(toLowerCase) @IsUUID()
  hospitalId?: string;
}

export class StatementPageDto {
  @ApiProperty({ type: [StatementSummaryDto] }) items: StatementSummaryDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class MatchEntryDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  disbursementId: string;

  @ApiPropertyOptional({
    example: 'The bank deducted its fee of ¥0.50',
    maxLength: 1000,
    description:
      'Why a credit that differs from the tranche is its payment all the same (a bank fee deducted on the way): required when the amounts differ, ' +
      'which they may by at most 1% of the tranche and ¥500. Stored on the entry (matchNote) and audited.',
  })
  @IsOptional() @IsReadableText(1000)
  differenceReason?: string;
}

export class ResolveEntryDto {
  @ApiProperty({
    example: 'Bank fee for the incoming transfer; nothing to reconcile.',
    minLength: 1,
    maxLength: 1000,
    description: 'Why the exception needs nothing more of Sprout (kept on the entry and audited)',
  })
  @IsReadableText(1000)
  note: string;
}

export class ReportQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'fund_finance/admin: one hospital, or all when absent. hospital_finance: its own (another → 403).' })
  @IsOptional() @EmptyAsAbsent() @Transform(toLowerCase) @IsUUID()
  hospitalId?: string;

  @ApiProperty({ format: 'date', description: 'First day of the period (inclusive)' })
  @Matches(DATE, { message: 'from must be a date YYYY-MM-DD' })
  from: string;

  @ApiProperty({ format: 'date', description: 'Last day of the period (inclusive)' })
  @Matches(DATE, { message: 'to must be a date YYYY-MM-DD' })
  to: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @IsOptional() @EmptyAsAbsent() @IsIn(['json', 'csv'])
  format: 'json' | 'csv' = 'json';
}

export class AmountCountDto {
  @ApiProperty({ type: 'integer' }) count: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'minor units (fen), exact: a sum may pass 2^53, which a JavaScript number reads rounded' }) amount: number;
}

/** Each figure's amount is the sum of its entries' amounts, credits and debits alike: the money to look at, not a net. */
export class ExceptionsDto {
  @ApiProperty({ type: AmountCountDto, description: 'Entries naming a tranche with another amount, and debits or reversals naming one (money the bank may have taken back); amounts added whatever their direction, not netted' })
  mismatched: AmountCountDto;
  @ApiProperty({ type: AmountCountDto, description: 'Entries naming a Sprout reference that matched nothing: credits (those naming none: unnamedCredits), and debits of less than the tranche they name' }) unmatched: AmountCountDto;
  @ApiProperty({
    type: AmountCountDto,
    description: 'Credits for a tranche already reconciled, or matched by an earlier entry of their statement; repeats of a bank entry already imported need no one and are left out',
  })
  duplicates: AmountCountDto;
  @ApiProperty({ type: AmountCountDto }) total: AmountCountDto;
}

export class ReconciliationReportDto {
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'null: every hospital' }) hospitalId: string | null;
  @ApiProperty({ format: 'date' }) from: string;
  @ApiProperty({ format: 'date' }) to: string;
  @ApiProperty({ type: AmountCountDto, description: 'Payments made in the period (paidOn) and not returned' }) paid: AmountCountDto;
  @ApiProperty({ type: AmountCountDto, description: 'Of those, the ones a statement entry has reconciled' }) reconciled: AmountCountDto;
  @ApiProperty({ type: AmountCountDto, description: 'Of those, the ones still waiting for a statement entry (paid = reconciled + outstanding)' }) outstanding: AmountCountDto;
  @ApiProperty({ type: ExceptionsDto, description: 'Statement entries booked in the period that need a person (not resolved)' }) exceptions: ExceptionsDto;
  @ApiProperty({ type: AmountCountDto, description: 'Exceptions booked in the period that a person has resolved (POST /reconciliation/entries/:id/resolve)' })
  resolvedExceptions: AmountCountDto;
  @ApiProperty({
    type: AmountCountDto,
    description: "Credits booked in the period naming no Sprout payment (unmatched, no reference): the hospital's own business as far as Sprout can tell, not exceptions",
  })
  unnamedCredits: AmountCountDto;
}
