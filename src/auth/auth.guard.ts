import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ACCESS_KEY, AccessRule } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { ProblemException } from 'src/common/problem/problem.exception';
import { InvalidTokenException } from 'src/auth/auth.exceptions';
import { TokenService } from 'src/auth/token.service';

/**
 * Global guard, deny by default: a route without @Public/@Roles/@Authenticated is refused for everyone,
 * so a forgotten decorator fails closed.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    if (!rule) throw new ProblemException(403, 'access-not-declared', 'Forbidden', 'This route does not declare who may call it.');
    if ('public' in rule) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const header = request.headers.authorization;
    // The scheme is case-insensitive (RFC 9110 §11.1), so `i`; the token's characters already include both cases.
    const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header) : null;
    if (!match) throw new InvalidTokenException('A bearer token is required.');
    const user = await this.tokens.authenticate(match[1]);
    if (!rule.roles.includes(user.role)) {
      throw new ProblemException(403, 'role-not-allowed', 'Forbidden', 'Your role may not do this.');
    }
    request.user = user;
    return true;
  }
}
