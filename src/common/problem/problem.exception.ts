import { HttpException } from '@nestjs/common';

export type FieldError = { field: string; message: string };

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
};

export const problemType = (slug: string) => `https://sprout.example.org/problems/${slug}`;

/**
 * The one exception every module throws (directly or through a named subclass):
 * a stable `slug` for clients, a human title, and a detail fit to show a user.
 * The global filter renders it as RFC 9457 problem+json.
 */
export class ProblemException extends HttpException {
  readonly problem: Problem;

  constructor(status: number, slug: string, title: string, detail?: string, extra: Partial<Problem> = {}) {
    super(detail ?? title, status);
    this.problem = { type: problemType(slug), title, status, ...(detail ? { detail } : {}), ...extra };
  }
}

export class InvalidInputException extends ProblemException {
  constructor(errors: FieldError[], detail = 'The request has invalid fields.') {
    super(400, 'validation-failed', 'Invalid input', detail, { errors });
  }
}

export class ResourceNotFoundException extends ProblemException {
  constructor(what: string) {
    super(404, 'not-found', 'Not found', `${what} was not found.`);
  }
}

export class ConflictException extends ProblemException {
  constructor(slug: string, detail: string, extra: Partial<Problem> = {}) {
    super(409, slug, 'Conflict', detail, extra);
  }
}
