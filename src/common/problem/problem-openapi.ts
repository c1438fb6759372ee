import { getSchemaPath } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ProblemDto } from 'src/common/problem/problem.dto';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * Declares every 4xx and 5xx answer as problem+json with ProblemDto, as ProblemFilter and framework-errors send them.
 * Done over the finished document, not per decorator: the generator writes an error response under application/json,
 * and @ApiProduces gives every response of a route its media types (a payment file's 409 read as text/csv, a
 * document's 401 as a PDF). A route's success keeps what its decorators say.
 */
export function withProblemResponses(document: OpenAPIObject): void {
  for (const pathItem of Object.values(document.paths)) {
    for (const operation of Object.values(pathItem) as unknown[]) {
      const responses = (operation as { responses?: Record<string, { content?: unknown }> } | null)?.responses;
      if (!responses) continue;
      for (const [status, response] of Object.entries(responses)) {
        if (/^[45]/.test(status)) response.content = { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } };
      }
    }
  }
}

type Operation = { parameters?: { in?: string }[]; responses?: Record<string, { description?: string }> };

/**
 * Every path parameter is an id read by ParseIdPipe, which answers 400 validation-failed to one that is not a UUID:
 * declared on every route that has one, where its decorators did not already declare a 400 of their own.
 */
export function withPathIdRefusals(document: OpenAPIObject): void {
  for (const pathItem of Object.values(document.paths)) {
    for (const operation of Object.values(pathItem) as (Operation | null)[]) {
      if (!operation?.responses || operation.responses['400']) continue;
      if (!operation.parameters?.some((parameter) => parameter.in === 'path')) continue;
      operation.responses['400'] = { description: 'A path id that is not a UUID (validation-failed, naming the parameter)' };
    }
  }
}
