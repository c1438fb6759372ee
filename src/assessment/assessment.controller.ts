import { Body, Controller, Get, HttpCode, ParseIntPipe, Put, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AssessmentService } from 'src/assessment/assessment.service';
import { MeansPolicyBodyDto, MeansPolicyVersionDto } from 'src/assessment/dto/means-policy.dto';
import { CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser, STAFF_ROLES } from 'src/common/auth/roles';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { InvalidInputException } from 'src/common/problem/problem.exception';

/** Policy versions are an int4 column: a larger number reached PostgreSQL as an out-of-range error (500). */
const MAX_POLICY_VERSION = 2_147_483_647;

@ApiTags('assessment')
@Controller('policies/means-assessment')
export class AssessmentController {
  constructor(private readonly assessments: AssessmentService) {}

  @Get()
  @Roles(...STAFF_ROLES)
  @ApiOperation({ summary: 'The current means-test policy (or an older version with ?version=)' })
  @ApiQuery({ name: 'version', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_POLICY_VERSION } })
  @ApiOkResponse({ type: MeansPolicyVersionDto })
  @ApiNotFoundResponse({ description: 'No such version', type: ProblemDto })
  async get(@Query('version', new ParseIntPipe({ optional: true })) version?: number): Promise<MeansPolicyVersionDto> {
    if (version !== undefined && (version < 1 || version > MAX_POLICY_VERSION)) {
      throw new InvalidInputException([{ field: 'version', message: `must be an integer from 1 to ${MAX_POLICY_VERSION}` }]);
    }
    const row = version === undefined ? await this.assessments.currentPolicy() : await this.assessments.policyVersion(version);
    return MeansPolicyVersionDto.from(row);
  }

  @Put()
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Replace the means-test policy: stores it as a new version; earlier assessments keep theirs' })
  @ApiBody({ type: MeansPolicyBodyDto })
  @ApiOkResponse({ type: MeansPolicyVersionDto })
  @ApiBadRequestResponse({ description: 'Invalid policy; `errors` names every bad field', type: ProblemDto })
  @ApiConflictResponse({ description: 'Another version was saved at the same time', type: ProblemDto })
  async replace(@Body() body: unknown, @CurrentUser() actor: AuthUser): Promise<MeansPolicyVersionDto> {
    return MeansPolicyVersionDto.from(await this.assessments.replacePolicy(body, actor));
  }
}
