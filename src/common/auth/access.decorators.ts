import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtension,
  ApiForbiddenResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ROLES, Role, AuthUser } from 'src/common/auth/roles';
import { ProblemDto } from 'src/common/problem/problem.dto';

export const ACCESS_KEY = 'sprout:access';
export type AccessRule = { public: true } | { roles: Role[] };

/** No token needed. Every route must carry exactly one of @Public, @Roles or @Authenticated: the guard denies the rest. */
export const Public = () => applyDecorators(SetMetadata(ACCESS_KEY, { public: true }), ApiExtension('x-access', { public: true }));

export const Roles = (...roles: Role[]) =>
  applyDecorators(
    SetMetadata(ACCESS_KEY, { roles }),
    ApiBearerAuth(),
    ApiExtension('x-access', { roles }),
    ApiUnauthorizedResponse({ description: 'Missing, invalid, expired or revoked token', type: ProblemDto }),
    ApiForbiddenResponse({ description: `Only for: ${roles.join(', ')}`, type: ProblemDto }),
  );

/** Any signed-in user, whatever the role. */
export const Authenticated = () => Roles(...ROLES);

export const Throttled = () => ApiTooManyRequestsResponse({ description: 'Too many attempts', type: ProblemDto });

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => {
  return ctx.switchToHttp().getRequest<{ user: AuthUser }>().user;
});
