import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { ApiIdempotencyKey, IdempotencyKey } from 'src/common/idempotency/idempotency-key.decorator';
import { replay } from 'src/common/idempotency/idempotent-reply';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { ParseIdPipe } from 'src/common/validation/parse-id.pipe';
import { ContributionsService } from 'src/fund/contributions.service';
import { ContributionDto, ContributionPageDto, ContributionPeriodDto, ContributionQueryDto, ContributionTotalsDto, CreateContributionDto, ReverseContributionDto } from 'src/fund/dto/contribution.dto';
import { FundBalancesDto } from 'src/fund/dto/fund-balances.dto';
import { LedgerVerificationDto } from 'src/fund/dto/ledger-verification.dto';
import { FundLedgerService } from 'src/fund/fund-ledger.service';
import { LedgerVerificationService } from 'src/fund/ledger-verification.service';

@ApiTags('fund')
@Controller('fund')
@ApiBadRequestResponse({ description: 'Invalid input', type: ProblemDto })
export class FundController {
  constructor(
    private readonly ledger: FundLedgerService,
    private readonly contributions: ContributionsService,
    private readonly verification: LedgerVerificationService,
  ) {}

  @Get()
  @Roles('fund_finance', 'admin')
  @ApiOperation({ summary: "The fund's balances: received = available + committed + disbursed" })
  @ApiOkResponse({ type: FundBalancesDto })
  balances(): Promise<FundBalancesDto> {
    return this.ledger.balances();
  }

  @Post('contributions')
  @Roles('fund_finance', 'admin')
  @ApiIdempotencyKey()
  @ApiOperation({ summary: 'Record a donation received; it becomes available for grants' })
  @ApiCreatedResponse({ type: ContributionDto })
  @ApiConflictResponse({
    description: 'The receipt is already recorded (duplicate-contribution: the same reference in other case, spacing, dashes or full-width characters), or the same Idempotency-Key is still in flight',
    type: ProblemDto,
  })
  async recordContribution(
    @Body() dto: CreateContributionDto,
    @CurrentUser() actor: AuthUser,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContributionDto> {
    const result = await this.contributions.record(dto, actor, idempotencyKey);
    if (result.replayed) reply.header('Idempotent-Replayed', 'true');
    return result.body;
  }

  @Post('contributions/:id/reverse')
  @Roles('fund_finance', 'admin')
  @ApiIdempotencyKey()
  @ApiOperation({
    summary: 'Reverse a contribution recorded by mistake: its whole amount goes back out of the fund (available → donations)',
    description:
      'For a wrong amount or donor, a transfer that bounced, or a receipt recorded twice: contributions are never changed or deleted. ' +
      'Once per contribution. The receipt may then be recorded again, correctly, under the same reference.',
  })
  @ApiOkResponse({ type: ContributionDto, description: 'The contribution, with its reversal' })
  @ApiNotFoundResponse({ description: 'No such contribution', type: ProblemDto })
  @ApiConflictResponse({
    description:
      'Already reversed (contribution-already-reversed); less is available than its amount, the rest being committed to grants ' +
      '(insufficient-funds, with requested and available); or the same Idempotency-Key is still in flight',
    type: ProblemDto,
  })
  async reverseContribution(
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: ReverseContributionDto,
    @CurrentUser() actor: AuthUser,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContributionDto> {
    return replay(reply, await this.contributions.reverse(id, dto, actor, idempotencyKey));
  }

  @Get('contributions')
  @Roles('fund_finance', 'admin')
  @ApiOperation({ summary: 'Donations received, newest first; reversed ones say so (reversed, reversal); from/to: days received' })
  @ApiOkResponse({ type: ContributionPageDto })
  listContributions(@Query() query: ContributionQueryDto): Promise<ContributionPageDto> {
    return this.contributions.list(query);
  }

  @Get('contributions/totals')
  @Roles('fund_finance', 'admin')
  @ApiOperation({
    summary: "A period's donations and reversals, for closing a month",
    description: 'Donations by the day received; reversals by the China day they were made (a November donation reversed in December is a December correction).',
  })
  @ApiOkResponse({ type: ContributionTotalsDto })
  contributionTotals(@Query() query: ContributionPeriodDto): Promise<ContributionTotalsDto> {
    return this.contributions.totals(query);
  }

  @Get('ledger/verify')
  @Roles('admin')
  @ApiOperation({ summary: 'Prove the cached balances equal the ledger entries and every journal transaction balances' })
  @ApiOkResponse({ type: LedgerVerificationDto })
  verify(): Promise<LedgerVerificationDto> {
    return this.verification.verify();
  }
}
