import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { ApiIdempotencyKey, IdempotencyKey } from 'src/common/idempotency/idempotency-key.decorator';
import { replay } from 'src/common/idempotency/idempotent-reply';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { DisbursementPaymentsService } from 'src/disbursements/disbursement-payments.service';
import { DisbursementsService } from 'src/disbursements/disbursements.service';
import {
  CancelDto,
  DisbursementDto,
  DisbursementPageDto,
  DisbursementQueryDto,
  ExportQueryDto,
  PayDisbursementDto,
  ReturnDto,
  RepointDto,
} from 'src/disbursements/dto/disbursement.dto';
import { GrantCancellationService } from 'src/disbursements/grant-cancellation.service';
import { PaymentFileExportService } from 'src/disbursements/payment-file-export.service';
import { ParseIdPipe } from 'src/common/validation/parse-id.pipe';

@ApiTags('disbursements')
@Controller('disbursements')
@ApiBadRequestResponse({ description: 'Invalid input', type: ProblemDto })
export class DisbursementsController {
  constructor(
    private readonly disbursements: DisbursementsService,
    private readonly payments: DisbursementPaymentsService,
    private readonly cancellation: GrantCancellationService,
    private readonly paymentFiles: PaymentFileExportService,
  ) {}

  @Get()
  @Roles('fund_finance', 'admin', 'hospital_finance')
  @ApiOperation({
    summary: 'Tranches, oldest first; hospital finance sees only its own hospital (another hospitalId → 403)',
    description: "payeeOutdated=true lists the tranches still to be paid whose payee is no longer the hospital's bank account.",
  })
  @ApiOkResponse({ type: DisbursementPageDto })
  list(@Query() query: DisbursementQueryDto, @CurrentUser() user: AuthUser): Promise<DisbursementPageDto> {
    return this.disbursements.list(user, query);
  }

  @Get('export')
  @Roles('fund_finance', 'admin')
  @ApiOperation({
    summary: 'Payment batch file for the bank (CSV, UTF-8, CRLF)',
    description:
      'Columns reference, hospital, bank_name, account_name, account_number, amount (yuan, two decimals), currency. ' +
      'Cells a spreadsheet would read as a formula are prefixed with an apostrophe. The export is audited. A file of scheduled ' +
      'tranches stamps each of them (exportedAt): cancelling or repointing one then needs notSentToBank: true. ' +
      "A scheduled tranche whose payee is no longer its hospital's bank account (payeeOutdated) is left out (and counted in a header) " +
      'unless outdatedPayees says to refuse the file (409 payees-outdated) or put it in. A scheduled tranche already in an earlier file ' +
      '(exportedAt) is left out (and counted in a header) unless alreadyExported=include.',
  })
  @ApiProduces('text/csv')
  // The headers are described, not declared: a declared response header makes the OWASP ruleset ask for
  // Access-Control-Allow-Origin on that response too, which is sent only where CORS_ORIGINS is set.
  @ApiOkResponse({
    description:
      'The CSV file. A file of scheduled tranches carries Outdated-Payees-Excluded (how many were left out for outdatedPayees=exclude) ' +
      'and Outdated-Payees-Included (how many are in it, to a previous account, for outdatedPayees=include), Already-Exported-Excluded ' +
      '(how many were left out as in an earlier file) and Already-Exported-Included (how many are in it again, for alreadyExported=include); ' +
      "Payment-File-Exported-At gives the file's stamp, which ?reissue= names (absent when the file is empty), and names the file. " +
      'Any other status is a listing, named so: not a file for the bank.',
    schema: { type: 'string' },
  })
  @ApiConflictResponse({ description: "payees-outdated: scheduled tranches pay into accounts their hospitals no longer have (references named); nothing exported", type: ProblemDto })
  @ApiNotFoundResponse({ description: 'payment-file-not-found: reissue names an exportedAt that no scheduled tranche carries', type: ProblemDto })
  async export(@Query() query: ExportQueryDto, @CurrentUser() user: AuthUser, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const { csv, outdatedPayees, alreadyExported, paymentFileStamp } = await this.paymentFiles.exportCsv(user, query);
    if (outdatedPayees) {
      reply.header('Outdated-Payees-Excluded', String(outdatedPayees.excluded)).header('Outdated-Payees-Included', String(outdatedPayees.included));
    }
    if (alreadyExported) {
      reply.header('Already-Exported-Excluded', String(alreadyExported.excluded)).header('Already-Exported-Included', String(alreadyExported.included));
    }
    // A payment file is named by its stamp, which a reissue names (?reissue=), and says so in a header; a listing of
    // tranches paid, reconciled or cancelled is named as a listing, never to be taken for a file for the bank.
    if (paymentFileStamp) reply.header('Payment-File-Exported-At', paymentFileStamp.toISOString());
    const fileName = paymentFileStamp
      ? `sprout-payment-file-${paymentFileStamp.toISOString().replace(/[:.]/g, '-')}.csv`
      : `sprout-disbursements-${query.status}-listing-not-for-the-bank.csv`;
    reply
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${fileName}"`)
      .header('Cache-Control', 'private, no-store')
      .header('X-Content-Type-Options', 'nosniff');
    return csv;
  }

  @Get(':id')
  @Roles('fund_finance', 'admin', 'hospital_finance')
  @ApiOperation({ summary: 'One tranche' })
  @ApiOkResponse({ type: DisbursementDto })
  @ApiNotFoundResponse({ description: 'No such tranche, or not of your hospital', type: ProblemDto })
  @ApiForbiddenResponse({ description: 'conflict-of-interest: an admin barred from the case (their own, linked to its family, or working for its hospital)', type: ProblemDto })
  get(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<DisbursementDto> {
    return this.disbursements.read(user, id);
  }

  @Post(':id/pay')
  @Roles('fund_finance')
  @ApiIdempotencyKey()
  @ApiOperation({
    summary: 'Record that the tranche was paid by bank transfer: scheduled → paid, committed → disbursed',
    description: 'The first paid tranche moves the application to disbursing. The family and the hospital finance office are emailed.',
  })
  @ApiOkResponse({ type: DisbursementDto })
  @ApiNotFoundResponse({ description: 'No such tranche', type: ProblemDto })
  @ApiConflictResponse({ description: 'Already paid, not scheduled, or the same Idempotency-Key is still in flight', type: ProblemDto })
  async pay(
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: PayDisbursementDto,
    @CurrentUser() user: AuthUser,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DisbursementDto> {
    return replay(reply, await this.payments.pay(user, id, dto, key));
  }

  @Post(':id/cancel')
  @Roles('fund_finance', 'admin')
  @ApiIdempotencyKey()
  @ApiOperation({ summary: 'Cancel a scheduled tranche, or one the bank returned: its amount returns to the fund\'s available balance' })
  @ApiOkResponse({ type: DisbursementDto })
  @ApiNotFoundResponse({ description: 'No such tranche', type: ProblemDto })
  @ApiConflictResponse({ description: 'The tranche is neither scheduled nor returned, or it went out in a payment file and notSentToBank is not true', type: ProblemDto })
  async cancel(
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: CancelDto,
    @CurrentUser() user: AuthUser,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DisbursementDto> {
    return replay(reply, await this.cancellation.cancelTranche(user, id, dto, key));
  }

  @Post(':id/return')
  @Roles('fund_finance')
  @ApiIdempotencyKey()
  @ApiOperation({
    summary: 'Record that the bank returned the payment: paid → returned, disbursed → committed',
    description: 'Schedule the tranche again with POST /disbursements/{id}/reschedule. When the grant is cancelled, the amount is released and the tranche cancelled instead.',
  })
  @ApiOkResponse({ type: DisbursementDto })
  @ApiNotFoundResponse({ description: 'No such tranche', type: ProblemDto })
  @ApiConflictResponse({ description: 'The tranche is not paid (a reconciled payment arrived and cannot be returned)', type: ProblemDto })
  async returnPayment(
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: ReturnDto,
    @CurrentUser() user: AuthUser,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DisbursementDto> {
    return replay(reply, await this.payments.returnPayment(user, id, dto, key));
  }

  @Post(':id/repoint')
  @Roles('fund_finance')
  @ApiIdempotencyKey()
  @ApiOperation({
    summary: "Pay a scheduled tranche into the hospital's current bank account (after an admin corrected it)",
    description:
      'A scheduled tranche keeps the account it was scheduled with until this is asked: an admin editing the hospital redirects no ' +
      'scheduled money by that alone. A tranche already in a payment file needs notSentToBank: true. Moves no money; audited with the payee before and after.',
  })
  @ApiOkResponse({ type: DisbursementDto })
  @ApiNotFoundResponse({ description: 'No such tranche', type: ProblemDto })
  @ApiConflictResponse({ description: "Not scheduled; already paying into the current account (payee-unchanged); or in a payment file without notSentToBank", type: ProblemDto })
  async repoint(
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: RepointDto,
    @CurrentUser() user: AuthUser,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DisbursementDto> {
    return replay(reply, await this.payments.repoint(user, id, dto, key));
  }

  @Post(':id/reschedule')
  @Roles('fund_finance')
  @ApiIdempotencyKey()
  @ApiOperation({ summary: "Schedule a returned tranche again, to the hospital's current bank account: returned → scheduled" })
  @ApiOkResponse({ type: DisbursementDto })
  @ApiNotFoundResponse({ description: 'No such tranche', type: ProblemDto })
  @ApiConflictResponse({ description: 'The tranche is not returned', type: ProblemDto })
  async reschedule(
    @Param('id', ParseIdPipe) id: string,
    @CurrentUser() user: AuthUser,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DisbursementDto> {
    return replay(reply, await this.payments.reschedule(user, id, key));
  }
}
