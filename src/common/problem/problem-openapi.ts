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
