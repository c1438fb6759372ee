import { Body, Controller, Get, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { ApiIdempotencyKey, IdempotencyKey } from 'src/common/idempotency/idempotency-key.decorator';
import { PageQueryDto } from 'src/common/pagination/pagination';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { ContributionsService } from 'src/fund/contributions.service';
import { ContributionDto, ContributionPageDto, CreateContributionDto } from 'src/fund/dto/contribution.dto';
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
  @ApiConflictResponse({ description: 'Reference already recorded, or the same Idempotency-Key is still in flight', type: ProblemDto })
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

  @Get('contributions')
  @Roles('fund_finance', 'admin')
  @ApiOperation({ summary: 'Donations received, newest first' })
  @ApiOkResponse({ type: ContributionPageDto })
  listContributions(@Query() query: PageQueryDto): Promise<ContributionPageDto> {
    return this.contributions.list(query);
  }

  @Get('ledger/verify')
  @Roles('admin')
  @ApiOperation({ summary: 'Prove the cached balances equal the ledger entries and every journal transaction balances' })
  @ApiOkResponse({ type: LedgerVerificationDto })
  verify(): Promise<LedgerVerificationDto> {
    return this.verification.verify();
  }
}
