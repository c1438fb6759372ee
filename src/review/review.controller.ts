import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { parseIfMatch } from 'src/applications/if-match';
import { CurrentUser, Roles } from 'src/common/auth/access.decorators';
import type { FastifyReply } from 'fastify';
import { AuthUser } from 'src/common/auth/roles';
import { ApiIdempotencyKey, IdempotencyKey } from 'src/common/idempotency/idempotency-key.decorator';
import { replay } from 'src/common/idempotency/idempotent-reply';
import { Page, pageOfList, PageQueryDto, ShortListQueryDto } from 'src/common/pagination/pagination';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { ApprovalService } from 'src/review/approval.service';
import { ApproveDto, RejectDto, RequestInfoDto, ReviewResultDto } from 'src/review/dto/review-actions.dto';
import { ChangesDto, DecisionListDto, HistoryEventDto, HistoryPageDto, InfoRequestListDto } from 'src/review/dto/review-records.dto';
import { ReviewRecordsService } from 'src/review/review-records.service';
import { ReviewService } from 'src/review/review.service';
import { ParseIdPipe } from 'src/common/validation/parse-id.pipe';

const IF_MATCH = { name: 'If-Match', required: false, description: 'The application version you decided on; a stale one gives 409' };
const WRONG_STATUS = '409 invalid-status-transition names the current status; version-conflict for a stale If-Match';
const CONFLICT_OF_INTEREST = 'Role may not review, or 403 conflict-of-interest: it is your own application, you are linked to the family, or you work for the treating hospital';

@ApiTags('review')
@Controller('applications')
@ApiNotFoundResponse({ description: 'No such application, or not one you may see', type: ProblemDto })
export class ReviewController {
  constructor(
    private readonly review: ReviewService,
    private readonly approvals: ApprovalService,
    private readonly recordsService: ReviewRecordsService,
  ) {}

  @Post(':id/start-review')
  @HttpCode(200)
  @Roles('reviewer', 'admin')
  @ApiOperation({ summary: 'Take a submitted application into review (submitted → under_review)' })
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: ReviewResultDto })
  @ApiForbiddenResponse({ description: CONFLICT_OF_INTEREST, type: ProblemDto })
  @ApiConflictResponse({ description: WRONG_STATUS, type: ProblemDto })
  startReview(@Param('id', ParseIdPipe) id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentUser() user: AuthUser): Promise<ReviewResultDto> {
    return this.review.startReview(user, id, parseIfMatch(ifMatch));
  }

  @Post(':id/request-info')
  @HttpCode(200)
  @Roles('reviewer', 'admin')
  @ApiOperation({
    summary: 'Ask the family for more information (under_review → info_requested)',
    description: 'The family is emailed, in its language, that a question is waiting (not the question: it may quote medical or household detail, which emails never carry); it reads it at GET /applications/:id/info-requests, edits and resubmits. GET /applications/:id/changes shows what it changed.',
  })
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: ReviewResultDto })
  @ApiBadRequestResponse({ description: 'message missing or invalid', type: ProblemDto })
  @ApiForbiddenResponse({ description: CONFLICT_OF_INTEREST, type: ProblemDto })
  @ApiConflictResponse({ description: WRONG_STATUS, type: ProblemDto })
  requestInfo(
    @Param('id', ParseIdPipe) id: string,
    @Body() body: RequestInfoDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentUser() user: AuthUser,
  ): Promise<ReviewResultDto> {
    return this.review.requestInfo(user, id, body, parseIfMatch(ifMatch));
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Roles('reviewer', 'admin')
  @ApiOperation({
    summary: 'Approve an amount (under_review → approved, or awaiting_second_approval at or above the threshold; awaiting_second_approval → approved)',
    description:
      'The first (or only) approval commits the amount from the fund (409 insufficient-funds when it is not available). ' +
      'At or above SECOND_APPROVAL_THRESHOLD (default 5000000 fen) a different reviewer must confirm the same amount ' +
      '(409 four-eyes-same-reviewer / four-eyes-amount-mismatch). The final approval schedules the tranches and emails the family.',
  })
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: ReviewResultDto })
  @ApiBadRequestResponse({ description: 'amount missing, not an integer of fen, or above the policy cap of the treatment plan', type: ProblemDto })
  @ApiForbiddenResponse({ description: CONFLICT_OF_INTEREST, type: ProblemDto })
  @ApiConflictResponse({
    description: `${WRONG_STATUS}; insufficient-funds; four-eyes-same-reviewer; four-eyes-amount-mismatch; the same Idempotency-Key still in flight`,
    type: ProblemDto,
  })
  @ApiIdempotencyKey()
  async approve(
    @Param('id', ParseIdPipe) id: string,
    @Body() body: ApproveDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentUser() user: AuthUser,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReviewResultDto> {
    return replay(reply, await this.approvals.approve(user, id, body, parseIfMatch(ifMatch), key));
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Roles('reviewer', 'admin')
  @ApiOperation({
    summary: 'Reject with a reason (under_review or awaiting_second_approval → rejected)',
    description: 'The family is emailed the reason in its language. Rejecting instead of a second approval releases the reserved amount.',
  })
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: ReviewResultDto })
  @ApiBadRequestResponse({ description: 'reason missing or invalid', type: ProblemDto })
  @ApiForbiddenResponse({ description: CONFLICT_OF_INTEREST, type: ProblemDto })
  @ApiConflictResponse({ description: `${WRONG_STATUS}; the same Idempotency-Key still in flight`, type: ProblemDto })
  @ApiIdempotencyKey()
  async reject(
    @Param('id', ParseIdPipe) id: string,
    @Body() body: RejectDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentUser() user: AuthUser,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReviewResultDto> {
    return replay(reply, await this.review.reject(user, id, body, parseIfMatch(ifMatch), key));
  }

  @Get(':id/decisions')
  @Roles('applicant', 'reviewer', 'admin', 'fund_finance')
  @ApiOperation({
    summary: 'The recorded decisions (approvals, rejections): who, what amount, comment or reason, when',
    description:
      'The family reads its own (the reason it was refused stays readable after the email, whose content is emptied after ' +
      'OUTBOX_RETENTION_DAYS): roles, amounts and reasons, not who decided nor the reviewer\'s comment.',
  })
  @ApiOkResponse({ type: DecisionListDto })
  async decisions(@Param('id', ParseIdPipe) id: string, @Query() query: ShortListQueryDto, @CurrentUser() user: AuthUser): Promise<DecisionListDto> {
    return pageOfList(await this.recordsService.decisionsOf(user, id), query, (d) => ({ k: d.decidedAt, id: d.id }));
  }

  @Get(':id/changes')
  @Roles('reviewer', 'admin')
  @ApiOperation({ summary: 'Each information request and the fields the family changed in answer (names only, never values)' })
  @ApiOkResponse({ type: ChangesDto })
  changes(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<ChangesDto> {
    return this.recordsService.changes(user, id);
  }

  @Get(':id/info-requests')
  @Roles('applicant', 'reviewer', 'admin')
  @ApiOperation({
    summary: "The reviewers' questions to the family, oldest first",
    description: 'The family reads its own here: the info-requested email only says that a question is waiting, never what it says.',
  })
  @ApiOkResponse({ type: InfoRequestListDto })
  async infoRequests(@Param('id', ParseIdPipe) id: string, @Query() query: ShortListQueryDto, @CurrentUser() user: AuthUser): Promise<InfoRequestListDto> {
    return pageOfList(await this.recordsService.infoRequests(user, id), query, (r) => ({ k: r.requestedAt, id: r.id }));
  }

  @Get(':id/history')
  @Roles('applicant', 'reviewer', 'fund_finance', 'admin')
  @ApiOperation({
    summary: "The application's audit events, oldest first",
    description:
      'The family sees its own applications (who acted by role only); staff see all submitted ones. Summaries hold no sensitive values. ' +
      'A reviewer or admin whose conflict of interest bars them from the case sees what happened and when only: no summaries, no actorId, ' +
      'and not the events the family does not see.',
  })
  @ApiOkResponse({ type: HistoryPageDto })
  @ApiBadRequestResponse({ description: 'Invalid limit or cursor', type: ProblemDto })
  history(@Param('id', ParseIdPipe) id: string, @Query() query: PageQueryDto, @CurrentUser() user: AuthUser): Promise<Page<HistoryEventDto>> {
    return this.recordsService.history(user, id, query);
  }
}
