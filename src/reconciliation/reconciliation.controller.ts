import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
  ApiUnsupportedMediaTypeResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { ProblemDto } from 'src/common/problem/problem.dto';
import {
  MatchEntryDto,
  ResolveEntryDto,
  ReconciliationReportDto,
  ReportQueryDto,
  StatementDetailDto,
  StatementItemDto,
  StatementItemsQueryDto,
  StatementListQueryDto,
  StatementPageDto,
  StatementImportedDto,
  StatementUploadDto,
} from 'src/reconciliation/dto/reconciliation.dto';
import { EntryMatchingService } from 'src/reconciliation/entry-matching.service';
import { reconciliationReportCsv, reconciliationReportJson } from 'src/reconciliation/reconciliation-report';
import { ReconciliationReportService } from 'src/reconciliation/reconciliation-report.service';
import { StatementImportService } from 'src/reconciliation/statement-import.service';
import { StatementsService } from 'src/reconciliation/statements.service';
import { ParseIdPipe } from 'src/common/validation/parse-id.pipe';

const RECONCILERS = ['hospital_finance', 'fund_finance', 'admin'] as const;

@ApiTags('reconciliation')
@Controller('reconciliation')
@ApiBadRequestResponse({ description: 'Invalid input', type: ProblemDto })
export class ReconciliationController {
  constructor(
    private readonly imports: StatementImportService,
    private readonly statements: StatementsService,
    private readonly matching: EntryMatchingService,
    private readonly reports: ReconciliationReportService,
  ) {}

  @Post('statements')
  @Roles(...RECONCILERS)
  @ApiOperation({
    summary: 'Import a bank statement of a hospital and match its entries against paid tranches',
    description:
      'camt.053 (001.02–001.13) or CSV, told apart by content, streamed. All or nothing: a malformed file (400, naming the line and ' +
      'element), a file past the limits (413), one already imported for this hospital (409), or a camt.053 file none of whose accounts ' +
      "is the hospital's (422) stores nothing; in a file of several accounts, the statements of accounts not the hospital's are left out " +
      '(statementsLeftOut). An upload waits at most 5 s for another import of the hospital, then answers 409 ' +
      'import-in-progress with Retry-After. hospital_finance imports for its own hospital (another hospitalId → 403); fund_finance and ' +
      'admin send `hospitalId` (before or after `file`).',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: StatementUploadDto })
  @ApiCreatedResponse({ type: StatementImportedDto })
  @ApiConflictResponse({ description: 'The same file was already imported for this hospital, or another import of it is still running (Retry-After)', type: ProblemDto })
  @ApiUnprocessableEntityResponse({ description: "statement-account-mismatch: the file's statements name accounts, none of them the hospital's", type: ProblemDto })
  @ApiPayloadTooLargeResponse({ description: 'Larger than STATEMENT_MAX_BYTES or more than STATEMENT_MAX_ENTRIES entries', type: ProblemDto })
  @ApiUnsupportedMediaTypeResponse({ description: 'Not multipart/form-data (multipart-required), or a file that is recognisably no statement: a PDF, an Excel workbook, an archive, an image or a program (unsupported-statement-format)', type: ProblemDto })
  importStatement(@Req() request: FastifyRequest, @CurrentUser() user: AuthUser): Promise<StatementImportedDto> {
    return this.imports.importUpload(user, request);
  }

  @Get('statements')
  @Roles(...RECONCILERS)
  @ApiOperation({ summary: 'Imported statements, newest first (hospital finance: its own)' })
  @ApiOkResponse({ type: StatementPageDto })
  listStatements(@Query() query: StatementListQueryDto, @CurrentUser() user: AuthUser): Promise<StatementPageDto> {
    return this.statements.list(user, query);
  }

  @Get('statements/:id')
  @Roles(...RECONCILERS)
  @ApiOperation({ summary: 'A statement with a page of its entries in file order (`limit` default 100, `cursor`, optional `status`)' })
  @ApiOkResponse({ type: StatementDetailDto })
  @ApiNotFoundResponse({ description: 'No such statement, or not of your hospital', type: ProblemDto })
  getStatement(@Param('id', ParseIdPipe) id: string, @Query() query: StatementItemsQueryDto, @CurrentUser() user: AuthUser): Promise<StatementDetailDto> {
    return this.statements.get(user, id, query);
  }

  @Post('entries/:id/match')
  @HttpCode(200)
  @Roles(...RECONCILERS)
  @ApiOperation({
    summary: 'Match an entry to a paid tranche by hand (audited): the tranche becomes reconciled',
    description: 'A credit differing from the tranche by a bank fee (at most 1% of the tranche and ¥500) is matched when differenceReason says why; a resolved exception matched so is no longer resolved.',
  })
  @ApiOkResponse({ type: StatementItemDto })
  @ApiNotFoundResponse({ description: 'No such entry or tranche, or not of your hospital', type: ProblemDto })
  @ApiConflictResponse({ description: 'The entry is already matched, the tranche is not paid or is reconciled by another entry', type: ProblemDto })
  @ApiUnprocessableEntityResponse({ description: 'Not a booked CNY credit, another amount (beyond a fee, or without differenceReason), or another hospital', type: ProblemDto })
  match(@Param('id', ParseIdPipe) id: string, @Body() dto: MatchEntryDto, @CurrentUser() user: AuthUser): Promise<StatementItemDto> {
    return this.matching.match(user, id, dto);
  }

  @Post('entries/:id/unmatch')
  @HttpCode(200)
  @Roles(...RECONCILERS)
  @ApiOperation({ summary: 'Undo a match (audited): the entry becomes unmatched and the tranche paid again' })
  @ApiOkResponse({ type: StatementItemDto })
  @ApiNotFoundResponse({ description: 'No such entry, or not of your hospital', type: ProblemDto })
  @ApiConflictResponse({ description: 'The entry is not matched, or the grant is completed', type: ProblemDto })
  unmatch(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<StatementItemDto> {
    return this.matching.unmatch(user, id);
  }

  @Post('entries/:id/resolve')
  @HttpCode(200)
  @Roles(...RECONCILERS)
  @ApiOperation({
    summary: 'Settle an exception that needs nothing more of Sprout, with a note (audited): it leaves the report\'s exceptions',
    description: 'For a mismatched, unmatched or duplicate entry: a bank fee debited under a tranche\'s reference, a transfer repeated in another export, a credit sorted out with the bank. Its status and reason stay.',
  })
  @ApiOkResponse({ type: StatementItemDto })
  @ApiNotFoundResponse({ description: 'No such entry, or not of your hospital', type: ProblemDto })
  @ApiConflictResponse({ description: 'entry-not-exception (matched or ignored), entry-already-resolved', type: ProblemDto })
  resolve(@Param('id', ParseIdPipe) id: string, @Body() dto: ResolveEntryDto, @CurrentUser() user: AuthUser): Promise<StatementItemDto> {
    return this.matching.resolve(user, id, dto);
  }

  @Post('entries/:id/reopen')
  @HttpCode(200)
  @Roles(...RECONCILERS)
  @ApiOperation({ summary: 'Undo the resolution of an exception (audited): it counts among the exceptions again' })
  @ApiOkResponse({ type: StatementItemDto })
  @ApiNotFoundResponse({ description: 'No such entry, or not of your hospital', type: ProblemDto })
  @ApiConflictResponse({ description: 'entry-not-resolved', type: ProblemDto })
  reopen(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<StatementItemDto> {
    return this.matching.reopen(user, id);
  }

  @Get('report')
  @Roles(...RECONCILERS)
  @ApiOperation({ summary: 'Paid, reconciled, outstanding and exceptions over a period: JSON (amounts in fen) or CSV (amounts in yuan, two decimals)' })
  @ApiExtraModels(ReconciliationReportDto)
  @ApiOkResponse({
    description: 'format=json: the report; format=csv: the same as a CSV file',
    content: { 'application/json': { schema: { $ref: getSchemaPath(ReconciliationReportDto) } }, 'text/csv': { schema: { type: 'string' } } },
  })
  async report(@Query() query: ReportQueryDto, @CurrentUser() user: AuthUser, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const report = await this.reports.report(user, query);
    if (query.format !== 'csv') {
      reply.header('Content-Type', 'application/json; charset=utf-8');
      return reconciliationReportJson(report);
    }
    reply
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="sprout-reconciliation-${query.from}-${query.to}.csv"`)
      .header('Cache-Control', 'private, no-store');
    return reconciliationReportCsv(report);
  }
}
