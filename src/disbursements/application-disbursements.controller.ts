import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiForbiddenResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { parseIfMatch } from 'src/applications/if-match';
import { Authenticated, CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { ApiIdempotencyKey, IdempotencyKey } from 'src/common/idempotency/idempotency-key.decorator';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { replay } from 'src/common/idempotency/idempotent-reply';
import { DisbursementsService } from 'src/disbursements/disbursements.service';
import { ApplicationCancelledDto, CancelDto, DisbursementPageDto } from 'src/disbursements/dto/disbursement.dto';
import { GrantCancellationService } from 'src/disbursements/grant-cancellation.service';
import { ParseIdPipe } from 'src/common/validation/parse-id.pipe';

@ApiTags('disbursements')
@Controller('applications/:id')
@ApiNotFoundResponse({ description: 'No such application, or not yours', type: ProblemDto })
export class ApplicationDisbursementsController {
  constructor(
    private readonly disbursements: DisbursementsService,
    private readonly cancellation: GrantCancellationService,
  ) {}

  @Get('disbursements')
  @Authenticated()
  @ApiOperation({ summary: "The grant's tranches, in order (family: its own; staff; hospital finance: its hospital's)" })
  @ApiOkResponse({ type: DisbursementPageDto })
  @ApiForbiddenResponse({ description: 'conflict-of-interest: a reviewer or admin barred from the case (their own, linked to its family, or working for its hospital)', type: ProblemDto })
  list(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<DisbursementPageDto> {
    return this.disbursements.forApplication(user, id);
  }

  @Post('cancel')
  @HttpCode(200)
  @Roles('fund_finance', 'admin')
  @ApiIdempotencyKey()
  @ApiOperation({
    summary: 'Cancel an approved or disbursing grant: approved|disbursing → cancelled',
    description: 'Every tranche not paid is cancelled and what the grant has committed returns to available; paid tranches stay paid.',
  })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The application version you decided on; a stale one gives 409 version-conflict' })
  @ApiOkResponse({ type: ApplicationCancelledDto })
  @ApiBadRequestResponse({ description: 'Invalid input (a reason is required, If-Match must be a version)', type: ProblemDto })
  @ApiConflictResponse({
    description: 'The application is not approved or disbursing, a stale If-Match (version-conflict), or a scheduled tranche went out in a payment file and notSentToBank is not true',
    type: ProblemDto,
  })
  async cancel(
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: CancelDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentUser() user: AuthUser,
    @IdempotencyKey() key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ApplicationCancelledDto> {
    return replay(reply, await this.cancellation.cancelApplication(user, id, dto, key, parseIfMatch(ifMatch)));
  }
}
