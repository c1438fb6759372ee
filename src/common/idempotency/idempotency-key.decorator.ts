import { applyDecorators, createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ApiHeader, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { InvalidInputException } from 'src/common/problem/problem.exception';
import { ProblemDto } from 'src/common/problem/problem.dto';

/** Visible ASCII, inner spaces allowed, at most 255 characters (API.md "Idempotency"). */
const KEY_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;

/** The request's `Idempotency-Key` header, checked; undefined when absent. */
export const IdempotencyKey = createParamDecorator((_: unknown, ctx: ExecutionContext): string | undefined => {
  const value = ctx.switchToHttp().getRequest<FastifyRequest>().headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !KEY_PATTERN.test(value)) {
    throw new InvalidInputException([{ field: 'Idempotency-Key', message: 'must be 1–255 visible ASCII characters' }]);
  }
  return value;
});

/** OpenAPI for a route that accepts the header. */
export const ApiIdempotencyKey = () =>
  applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      schema: { type: 'string', maxLength: 255 },
      description:
        'Same key and same body: the first response is replayed (with `Idempotent-Replayed: true`). ' +
        'Same key and a different body: 422. Same key while the first request is still running: 409.',
    }),
    ApiUnprocessableEntityResponse({ description: 'Idempotency-Key reused with a different request', type: ProblemDto }),
  );
