import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Authenticated, CurrentUser, Public, Throttled } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { AuthService } from 'src/auth/auth.service';
import { AcceptedDto, AcceptInviteDto, ForgotPasswordDto, LoginDto, OkDto, RefreshDto, RegisterDto, RegisteredDto, ResetPasswordDto, TokenDto, TokenPairDto } from 'src/auth/dto/auth.dto';

@ApiTags('auth')
@Controller('auth')
@ApiBadRequestResponse({ description: 'Invalid input', type: ProblemDto })
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @Public()
  @ApiOperation({ summary: 'Register a family (applicant) account; a verification email is sent' })
  @ApiCreatedResponse({ type: RegisteredDto })
  @ApiConflictResponse({ description: 'Email already registered', type: ProblemDto })
  @Throttled()
  register(@Body() dto: RegisterDto, @Req() request: FastifyRequest): Promise<RegisteredDto> {
    return this.auth.register(dto, request.ip);
  }

  @Post('verify-email')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: 'Confirm the email address with the token from the verification email' })
  @ApiOkResponse({ type: OkDto })
  async verifyEmail(@Body() dto: TokenDto): Promise<OkDto> {
    await this.auth.verifyEmail(dto.token);
    return { status: 'ok' };
  }

  @Post('resend-verification')
  @HttpCode(202)
  @Authenticated()
  @Throttled()
  @ApiOperation({
    summary: 'Email a new verification link to the signed-in caller whose address is not verified yet; the links mailed before stop working',
    description:
      'For a family whose link expired (links last 48 hours) or never arrived. Limited per client address and per account (429 with Retry-After).',
  })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiConflictResponse({ description: 'The email address is already verified (email-already-verified); nothing is sent', type: ProblemDto })
  async resendVerification(@CurrentUser() user: AuthUser, @Req() request: FastifyRequest): Promise<AcceptedDto> {
    await this.auth.resendVerification(user, request.ip);
    return { status: 'accepted' };
  }

  @Post('accept-invite')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: 'Set the password of an invited staff account' })
  @ApiOkResponse({ type: OkDto })
  async acceptInvite(@Body() dto: AcceptInviteDto): Promise<OkDto> {
    await this.auth.acceptInvite(dto);
    return { status: 'ok' };
  }

  @Post('forgot-password')
  @HttpCode(202)
  @Public()
  @Throttled()
  @ApiOperation({ summary: 'Email a one-time password reset link; the same answer whether or not the address has an account' })
  @ApiAcceptedResponse({ type: AcceptedDto })
  async forgotPassword(@Body() dto: ForgotPasswordDto, @Req() request: FastifyRequest): Promise<AcceptedDto> {
    await this.auth.forgotPassword(dto, request.ip);
    return { status: 'accepted' };
  }

  @Post('reset-password')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: 'Set a new password with the token from the reset email; ends every session of the account' })
  @ApiOkResponse({ type: OkDto })
  async resetPassword(@Body() dto: ResetPasswordDto): Promise<OkDto> {
    await this.auth.resetPassword(dto);
    return { status: 'ok' };
  }

  @Post('login')
  @HttpCode(200)
  @Public()
  @Throttled()
  @ApiOperation({ summary: 'Sign in; throttled per account and per client address' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'Wrong email or password (same answer for both)', type: ProblemDto })
  login(@Body() dto: LoginDto, @Req() request: FastifyRequest): Promise<TokenPairDto> {
    return this.auth.login(dto, request.ip);
  }

  @Post('refresh')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: 'Exchange a refresh token (single use) for a new pair' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'Invalid, expired or reused refresh token (reuse ends the session)', type: ProblemDto })
  refresh(@Body() dto: RefreshDto): Promise<TokenPairDto> {
    return this.auth.refresh(dto.refreshToken);
  }

  @Post('logout')
  @HttpCode(204)
  @Authenticated()
  @ApiOperation({ summary: 'End this session; its access and refresh tokens stop working at once' })
  @ApiNoContentResponse()
  async logout(@CurrentUser() user: AuthUser): Promise<void> {
    await this.auth.logout(user);
  }
}
