import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { pageOfList, ShortListQueryDto } from 'src/common/pagination/pagination';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { CreateReviewerConflictDto, ReviewerConflictDto, ReviewerConflictListDto } from 'src/review/dto/reviewer-conflict.dto';
import { ReviewerConflictsService } from 'src/review/reviewer-conflicts.service';
import { ParseIdPipe } from 'src/common/validation/parse-id.pipe';

@ApiTags('review')
@Controller('users/:id/conflicts')
@ApiNotFoundResponse({ description: 'No such user (or conflict)', type: ProblemDto })
export class ReviewerConflictsController {
  constructor(private readonly conflicts: ReviewerConflictsService) {}

  @Post()
  @Roles('admin')
  @ApiOperation({
    summary: "Record a reviewer's conflict of interest",
    description: 'With a family (applicantId: the applicant account) or a hospital the reviewer works for. They then cannot take any review action on those applications (403 conflict-of-interest).',
  })
  @ApiCreatedResponse({ type: ReviewerConflictDto })
  @ApiBadRequestResponse({ description: 'Not exactly one of applicantId and hospitalId, or it names nothing known', type: ProblemDto })
  @ApiConflictResponse({ description: 'Already recorded', type: ProblemDto })
  add(@Param('id', ParseIdPipe) id: string, @Body() body: CreateReviewerConflictDto, @CurrentUser() user: AuthUser): Promise<ReviewerConflictDto> {
    return this.conflicts.add(id, body, user);
  }

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: "A reviewer's recorded conflicts of interest" })
  @ApiOkResponse({ type: ReviewerConflictListDto })
  async list(@Param('id', ParseIdPipe) id: string, @Query() query: ShortListQueryDto): Promise<ReviewerConflictListDto> {
    return pageOfList(await this.conflicts.list(id), query, (c) => ({ k: c.createdAt, id: c.id }));
  }

  @Delete(':conflictId')
  @HttpCode(204)
  @Roles('admin')
  @ApiOperation({ summary: 'Remove a recorded conflict of interest', description: 'Not one recorded against yourself: another admin removes it (403 own-conflict).' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiForbiddenResponse({ description: 'own-conflict: the conflict is recorded against you', type: ProblemDto })
  async remove(@Param('id', ParseIdPipe) id: string, @Param('conflictId', ParseIdPipe) conflictId: string, @CurrentUser() user: AuthUser): Promise<void> {
    await this.conflicts.remove(id, conflictId, user);
  }
}
