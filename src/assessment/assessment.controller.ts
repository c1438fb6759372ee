import { Body, Controller, Get, Headers, HttpCode, Put, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConflictResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { parseIfMatch } from 'src/applications/if-match';
import { AssessmentService } from 'src/assessment/assessment.service';
import { MeansPolicyBodyDto, MeansPolicyVersionDto, PolicyVersionQueryDto } from 'src/assessment/dto/means-policy.dto';
import { CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser, STAFF_ROLES } from 'src/common/auth/roles';
import { ProblemDto } from 'src/common/problem/problem.dto';

@ApiTags('assessment')
@Controller('policies/means-assessment')
export class AssessmentController {
  constructor(private readonly assessments: AssessmentService) {}

  @Get()
  @Roles(...STAFF_ROLES)
  @ApiOperation({ summary: 'The current means-test policy (or an older version with ?version=)' })
  @ApiOkResponse({ type: MeansPolicyVersionDto })
  @ApiNotFoundResponse({ description: 'No such version', type: ProblemDto })
  async get(@Query() { version }: PolicyVersionQueryDto): Promise<MeansPolicyVersionDto> {
    const row = version === undefined ? await this.assessments.currentPolicy() : await this.assessments.policyVersion(version);
    return MeansPolicyVersionDto.from(row);
  }

  @Put()
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Replace the means-test policy: stores it as a new version; earlier assessments keep theirs' })
  @ApiBody({ type: MeansPolicyBodyDto })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The policy version you edited, e.g. "3"; another current version gives 409 version-conflict' })
  @ApiOkResponse({ type: MeansPolicyVersionDto })
  @ApiBadRequestResponse({ description: 'Invalid policy; `errors` names every bad field (or a malformed If-Match)', type: ProblemDto })
  @ApiConflictResponse({ description: 'Another version was saved at the same time; version-conflict (with currentVersion) for a stale If-Match', type: ProblemDto })
  async replace(@Body() body: unknown, @Headers('if-match') ifMatch: string | undefined, @CurrentUser() actor: AuthUser): Promise<MeansPolicyVersionDto> {
    return MeansPolicyVersionDto.from(await this.assessments.replacePolicy(body, actor, parseIfMatch(ifMatch, 'policy')));
  }
}
