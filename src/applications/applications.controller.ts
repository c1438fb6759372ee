import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApplicationTransitionsService } from 'src/applications/application-transitions.service';
import { ApplicationsService } from 'src/applications/applications.service';
import { ApplicationInputDto } from 'src/applications/dto/application-input.dto';
import { ApplicationQueryDto, ApplicationReadQueryDto } from 'src/applications/dto/application-query.dto';
import { ApplicationDto, ApplicationPageDto, StatusChangeDto } from 'src/applications/dto/application.dto';
import { parseIfMatch } from 'src/applications/if-match';
import { AssessmentDto } from 'src/assessment/dto/assessment.dto';
import { Authenticated, CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { ParseIdPipe } from 'src/common/validation/parse-id.pipe';

const IF_MATCH = { name: 'If-Match', required: false, description: 'The version you last read; a stale one gives 409' };

@ApiTags('applications')
@Controller('applications')
@ApiBadRequestResponse({ description: 'Invalid input; `errors` names each bad field', type: ProblemDto })
@ApiNotFoundResponse({ description: 'No such application, or not yours', type: ProblemDto })
export class ApplicationsController {
  constructor(
    private readonly applications: ApplicationsService,
    private readonly transitions: ApplicationTransitionsService,
  ) {}

  @Post()
  @Roles('applicant')
  @ApiOperation({ summary: 'Start an application (a draft); every section may be partial' })
  @ApiCreatedResponse({ type: ApplicationDto })
  @ApiConflictResponse({ description: 'too-many-drafts: MAX_OPEN_DRAFTS_PER_ACCOUNT applications started and never submitted', type: ProblemDto })
  create(@Body() body: ApplicationInputDto, @CurrentUser() user: AuthUser): Promise<ApplicationDto> {
    return this.applications.create(user, body);
  }

  @Get()
  @Authenticated()
  @ApiOperation({
    summary: 'List the applications you may see',
    description: 'Families: their own. Reviewers, fund finance, admins: all submitted ones. Hospital finance: its hospital only. status=submitted is the review queue, oldest first submission first.',
  })
  @ApiOkResponse({ type: ApplicationPageDto })
  list(@Query() query: ApplicationQueryDto, @CurrentUser() user: AuthUser): Promise<ApplicationPageDto> {
    return this.applications.list(user, query);
  }

  @Get(':id')
  @Authenticated()
  @ApiOperation({
    summary: 'One application, with what your role may see of it',
    description: 'Reviewers and admins see national ids masked (the last four characters shown, the rest starred) unless they ask with `?reveal=nationalIds`, which is audited (application.national_ids_revealed).',
  })
  @ApiOkResponse({ type: ApplicationDto })
  get(@Param('id', ParseIdPipe) id: string, @Query() query: ApplicationReadQueryDto, @CurrentUser() user: AuthUser): Promise<ApplicationDto> {
    return this.applications.get(user, id, query.reveal === 'nationalIds');
  }

  @Patch(':id')
  @Roles('applicant')
  @ApiOperation({ summary: 'Change sections of your application (draft or info_requested); null clears a field' })
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: ApplicationDto })
  @ApiConflictResponse({ description: 'Not editable in its status, or a stale If-Match', type: ProblemDto })
  update(
    @Param('id', ParseIdPipe) id: string,
    @Body() body: ApplicationInputDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentUser() user: AuthUser,
  ): Promise<ApplicationDto> {
    return this.applications.update(user, id, body, parseIfMatch(ifMatch));
  }

  @Post(':id/submit')
  @HttpCode(200)
  @Roles('applicant')
  @ApiOperation({ summary: 'Submit your application (from draft or info_requested)' })
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: StatusChangeDto })
  @ApiConflictResponse({ description: 'Not submittable in its current status', type: ProblemDto })
  @ApiUnprocessableEntityResponse({ description: 'Incomplete; `errors` lists every missing item', type: ProblemDto })
  submit(@Param('id', ParseIdPipe) id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentUser() user: AuthUser): Promise<StatusChangeDto> {
    return this.transitions.submit(user, id, parseIfMatch(ifMatch));
  }

  @Post(':id/withdraw')
  @HttpCode(200)
  @Roles('applicant')
  @ApiOperation({
    summary: 'Withdraw your application before a decision',
    description: 'A draft never submitted loses its documents too (no one else ever saw them; a withdrawn application cannot be edited). Documents of an application submitted before are kept.',
  })
  @ApiHeader(IF_MATCH)
  @ApiOkResponse({ type: StatusChangeDto })
  @ApiConflictResponse({ description: 'Already decided, withdrawn or under review', type: ProblemDto })
  withdraw(@Param('id', ParseIdPipe) id: string, @Headers('if-match') ifMatch: string | undefined, @CurrentUser() user: AuthUser): Promise<StatusChangeDto> {
    return this.transitions.withdraw(user, id, parseIfMatch(ifMatch));
  }

  @Get(':id/assessment')
  @Roles('applicant', 'reviewer', 'fund_finance', 'admin')
  @ApiOperation({
    summary: 'The latest means assessment',
    description:
      'Reviewers and admins get the full breakdown; the family too, for its own application, except the reason that names another open application for the same child; fund finance only the tier and recommended amount (the breakdown gives away the household\'s income, assets and the treatment\'s cost). "incomplete" lists what a draft still lacks.',
  })
  @ApiOkResponse({ type: AssessmentDto })
  assessment(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<AssessmentDto> {
    return this.applications.assessment(user, id);
  }
}
