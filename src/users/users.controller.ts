import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { CreateUserDto, InvitationDto, UpdateMeDto, UpdateUserDto, UserDto, UserPageDto, UserQueryDto } from 'src/users/dto/user.dto';
import { UsersService } from 'src/users/users.service';
import { ParseIdPipe } from 'src/common/validation/parse-id.pipe';

@ApiTags('users')
@Controller()
@ApiBadRequestResponse({ description: 'Invalid input', type: ProblemDto })
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @Authenticated()
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserDto })
  me(@CurrentUser() user: AuthUser): Promise<UserDto> {
    return this.users.me(user);
  }

  @Patch('me')
  @Authenticated()
  @ApiOperation({ summary: 'Set what is yours to set: the language of your emails', description: 'Audited (user.locale_changed). Emails already written keep theirs.' })
  @ApiOkResponse({ type: UserDto })
  updateMe(@Body() dto: UpdateMeDto, @CurrentUser() user: AuthUser): Promise<UserDto> {
    return this.users.updateMe(user, dto);
  }

  @Post('users')
  @Roles('admin')
  @ApiOperation({ summary: 'Create a user; without a password an invitation email is sent' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiConflictResponse({ description: 'Email already registered', type: ProblemDto })
  create(@Body() dto: CreateUserDto, @CurrentUser() actor: AuthUser): Promise<UserDto> {
    return this.users.create(dto, actor);
  }

  @Post('users/:id/invitation')
  @Roles('admin')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Invite again an account that never set a password',
    description: 'For an invitation that expired, was lost, or died with a disabling: a new link is emailed and the earlier links stop working.',
  })
  @ApiAcceptedResponse({ type: InvitationDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  @ApiConflictResponse({ description: 'account-already-active (it has a password: its owner resets it) or account-disabled (enable it first)', type: ProblemDto })
  reinvite(@Param('id', ParseIdPipe) id: string, @CurrentUser() actor: AuthUser): Promise<InvitationDto> {
    return this.users.reinvite(id, actor);
  }

  @Get('users')
  @Roles('admin')
  @ApiOperation({ summary: 'List users, oldest first' })
  @ApiOkResponse({ type: UserPageDto })
  list(@Query() query: UserQueryDto): Promise<UserPageDto> {
    return this.users.list(query);
  }

  @Patch('users/:id')
  @Roles('admin')
  @ApiOperation({
    summary: 'Rename, change the role of, disable or re-enable a user',
    description: "A hospital finance user given another role or hospital keeps a conflict of interest with the hospital they leave (GET /users/{id}/conflicts).",
  })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  @ApiConflictResponse({ description: 'Would leave no active admin, or an admin changing themselves', type: ProblemDto })
  update(@Param('id', ParseIdPipe) id: string, @Body() dto: UpdateUserDto, @CurrentUser() actor: AuthUser): Promise<UserDto> {
    return this.users.update(id, dto, actor);
  }
}
