import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { requestContext } from 'src/common/logging/request-context';

/**
 * One pino instance for Fastify's request logs and Nest's own logs: structured JSON, the request id on
 * every line written during a request, and no credentials (tokens, passwords, national ids) even if someone logs a body by mistake.
 */
export function createRootLogger(level: string, destination: pino.DestinationStream = asyncStdout()): Logger {
  return pino({
    level,
    base: { service: 'sprout' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["idempotency-key"]',
        // Request headers other code logs under its own name: @fastify/multipart logs the busboy options, headers
        // and all, at trace (a family's bearer token with every upload).
        '*.headers.authorization',
        '*.headers.cookie',
        '*.headers["idempotency-key"]',
        'headers.authorization',
        'headers.cookie',
        'headers["idempotency-key"]',
        '*.password',
        '*.token',
        '*.refreshToken',
        '*.accessToken',
        '*.nationalId',
      ],
      censor: '[redacted]',
    },
    serializers: {
      err: loggableError,
      // The default serializer logs the full URL; query strings may carry cursors but never secrets.
      req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: req.url.split('?')[0], id: req.id }),
    },
  }, destination);
}

/** What of an error a log line may carry: a database error's values stay out (see loggableError). */
const ERROR_FIELDS = ['code', 'constraint', 'table', 'column', 'schema', 'routine', 'severity', 'statusCode', 'command', 'responseCode'] as const;

/**
 * An error as a log line carries it: its class, message, stack and codes — never the values it was about. pino's
 * standard serializer copies every property, and a failed query's error (TypeORM's QueryFailedError, pg's error)
 * carries the statement's `parameters` (a family's names, income, diagnosis; a password hash; a reset token),
 * `detail` ("Failing row contains (…)", "Key (email)=(…) already exists") and `where`. Redaction paths cannot reach
 * them: they sit at any depth, in `cause` and `driverError`.
 */
export function loggableError(error: unknown, depth = 0): Record<string, unknown> | unknown {
  if (!(error instanceof Error) || depth > 3) return error instanceof Error ? { type: error.constructor.name } : error;
  const fields = error as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { type: error.constructor.name, message: error.message, stack: error.stack };
  for (const key of ERROR_FIELDS) {
    const value = fields[key];
    if (typeof value === 'string' || typeof value === 'number') out[key] = value;
  }
  if (error.cause !== undefined) out.cause = loggableError(error.cause, depth + 1);
  return out;
}

/**
 * stdout written asynchronously (sonic-boom): lines that arrive while a write is in flight go out together, off the
 * request path. pino's default is one synchronous write() per line — two per request at LOG_LEVEL=info — and the
 * bench measured GET /applications/:id at 597 req/s with it, 898 req/s without (1.63 → 1.07 ms of CPU per request,
 * BENCHMARKS.md). pino flushes what is pending when the process exits; only a SIGKILL can lose the line in flight.
 */
function asyncStdout(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}

export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, rest: unknown[]) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    // Fastify's request logs carry reqId already; Nest's logs get it from the request context.
    const reqId = requestContext.getStore()?.requestId;
    if (message instanceof Error) {
      this.logger[level]({ context, reqId, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      // Nest's Logger passes `warn({…}, 'what happened')` on as (object, text, context): the text is the line's msg.
      const text = typeof rest[0] === 'string' ? rest[0] : undefined;
      this.logger[level]({ context, reqId, ...(message as object) }, text);
    } else {
      this.logger[level]({ context, reqId }, String(message));
    }
  }
}
