import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Problem, ProblemException, problemType } from 'src/common/problem/problem.exception';

/** Per status: the problem type's slug, its title, and the detail when nothing more specific is known. */
const GENERIC: Record<number, [string, string, string]> = {
  400: ['bad-request', 'Bad request', 'The request is malformed.'],
  401: ['unauthorized', 'Authentication required', 'A valid access token is required.'],
  403: ['forbidden', 'Forbidden', 'You may not do this.'],
  404: ['not-found', 'Not found', 'There is nothing at this method and path.'],
  405: ['method-not-allowed', 'Method not allowed', 'This method is not allowed here.'],
  406: ['not-acceptable', 'Not acceptable', 'No answer in an acceptable media type can be given.'],
  408: ['request-timeout', 'Request timeout', 'The request took too long to arrive.'],
  409: ['conflict', 'Conflict', 'The request conflicts with the current state.'],
  413: ['payload-too-large', 'Payload too large', 'The request body is too large.'],
  414: ['uri-too-long', 'URI too long', 'The URL is too long.'],
  415: ['unsupported-media-type', 'Unsupported media type', 'This content type is not supported here.'],
  422: ['unprocessable', 'Unprocessable request', 'The request cannot be processed.'],
  429: ['rate-limited', 'Too many requests', 'Too many requests; retry later.'],
  431: ['headers-too-large', 'Request headers too large', 'The request headers are too large.'],
  500: ['internal', 'Internal server error', 'An unexpected error occurred. It has been logged.'],
  503: ['service-unavailable', 'Service unavailable', 'A service Sprout depends on is unavailable. Please retry shortly.'],
};

/** A dependency that went away is usually back within seconds (a restart, a failover); a statement timeout says 30. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
/** The disk (or quota) uploads are written to is full: space is freed by an operator, not within seconds. */
const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);
const STORAGE_FULL_RETRY_AFTER_SECONDS = 60;
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300']);

/** API.md's error body always has a detail: the given one, else the status's own. */
export function genericProblem(status: number, detail?: string): Problem {
  const [slug, title, fallback] = GENERIC[status] ?? (status >= 500 ? GENERIC[500] : GENERIC[400]);
  return { type: problemType(slug), title, status, detail: detail || fallback };
}

/** Turns every error into RFC 9457 problem+json: no stack traces, no SQL, nothing about other users. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const problem = this.toProblem(exception);
    if (exception instanceof ProblemException && problem.status === 503) {
      // A 503 this service chose to answer (readiness, a dependency down, a pool wait) is expected, and says why: one
      // warning line, not an error with a stack at every probe of an outage.
      this.logger.warn({ reqId: request?.id, path: request?.routeOptions?.url, detail: problem.detail }, 'answered 503');
    } else if (problem.status >= 500) {
      this.logger.error({ err: exception, reqId: request?.id, path: request?.routeOptions?.url }, 'request failed');
    }
    if (problem.status === 401) reply.header('WWW-Authenticate', 'Bearer');
    if (typeof problem.retryAfter === 'number') reply.header('Retry-After', String(problem.retryAfter));
    reply.status(problem.status).header('Content-Type', 'application/problem+json; charset=utf-8').send(problem);
  }

  toProblem(exception: unknown): Problem {
    const classified = this.classify(exception);
    const problem = classified.detail ? classified : { ...classified, detail: genericProblem(classified.status).detail };
    // Every 503 tells the client when to come back (a dependency down, readiness, a pool or coalescer wait).
    return problem.status === 503 && problem.retryAfter === undefined ? { ...problem, retryAfter: UNAVAILABLE_RETRY_AFTER_SECONDS } : problem;
  }

  private classify(exception: unknown): Problem {
    if (exception instanceof ProblemException) return exception.problem;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message = typeof body === 'object' && body && 'message' in body ? (body as { message: unknown }).message : body;
      const detail = status >= 500 ? undefined : Array.isArray(message) ? message.join('; ') : String(message ?? '');
      return genericProblem(status, detail && !/^(Cannot \w+ |Http Exception)/.test(detail) ? detail : undefined);
    }
    const err = exception as { statusCode?: number; code?: string; message?: string; name?: string };
    if (isDependencyDown(err)) {
      return genericProblem(HttpStatus.SERVICE_UNAVAILABLE, 'A service Sprout depends on is unavailable. Please retry shortly.');
    }
    // statement_timeout: a statement waited 30 s, mostly behind a lock a long import holds. The transaction rolled back.
    if (err?.code === '57014') {
      return { ...genericProblem(HttpStatus.SERVICE_UNAVAILABLE, 'The database took too long to answer. Please retry shortly.'), retryAfter: 30 };
    }
    if (err?.code && STORAGE_FULL_CODES.has(err.code)) {
      return { ...genericProblem(HttpStatus.SERVICE_UNAVAILABLE, 'There is no room to store the file just now. Please retry later.'), retryAfter: STORAGE_FULL_RETRY_AFTER_SECONDS };
    }
    // PostgreSQL out of disk (disk_full): nothing was written, and nothing can be until an operator frees space.
    if (err?.code === '53100') {
      return { ...genericProblem(HttpStatus.SERVICE_UNAVAILABLE, 'The database has no room to store this just now. Please retry later.'), retryAfter: STORAGE_FULL_RETRY_AFTER_SECONDS };
    }
    if (err?.code === '40001' || err?.code === '40P01' || err?.code === '55P03') {
      return { ...genericProblem(409, 'A concurrent change won; reload and try again.'), type: problemType('concurrent-update') };
    }
    // Fastify's own errors (body parsing, content type, size) carry a 4xx statusCode and a safe message.
    if (typeof err?.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return genericProblem(err.statusCode, fastifyDetail(err));
    }
    return genericProblem(500, 'An unexpected error occurred. It has been logged.');
  }
}

type ErrorLike = { code?: string; message?: string; name?: string; cause?: unknown };

/** PostgreSQL or Redis went away under the request: 503 (retry shortly), not 500. Looks through `cause` chains. */
export function isDependencyDown(err: ErrorLike | undefined, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  if (err.code && UNAVAILABLE_CODES.has(err.code)) return true;
  // The connection died inside a transaction: TypeORM released its query runner and refuses the next statement
  // (QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError).
  if (/^QueryRunner(Provider)?AlreadyReleasedError$/.test(err.name ?? '')) return true;
  if (err.code?.startsWith('08')) return true; // PostgreSQL connection exceptions
  const message = err.message ?? '';
  // 'Query read timeout': no answer within the pool's query_timeout, the server gone silent (its connection is dropped).
  if (/Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Connection is closed|the database system is (starting|shutting) up|not queryable|Query read timeout/i.test(message)) {
    return true;
  }
  return isDependencyDown(err.cause as ErrorLike | undefined, depth + 1);
}

function fastifyDetail(err: { code?: string; message?: string; statusCode?: number }): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is too large.';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'This content type is not supported here.';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The JSON body is empty.';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'The body is not valid JSON.';
    default:
      return err.statusCode === 400 && /JSON/i.test(err.message ?? '') ? 'The body is not valid JSON.' : (err.message ?? '').slice(0, 200);
  }
}
