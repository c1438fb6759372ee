import { LogController } from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/**
 * One access line per request, written when the response is done: method, path and request id (the `req`
 * serializer of createRootLogger), status and response time. Fastify's default is two lines, "incoming request"
 * and "request completed", which doubled the logging cost of every read (BENCHMARKS.md, issue 8).
 *
 * The line has this fixed shape and nothing else, so it is written by a child without redaction (redacting it cost
 * twice the rest of the line, issue 8). Errors are logged by Fastify through the request's own logger, redaction
 * included; so is the line of a response that failed to be written, which carries its error.
 */
export class AccessLogController extends LogController {
  private readonly lines: Logger;

  constructor(logger: Logger) {
    super();
    this.lines = logger.child({}, { redact: [], serializers: { res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }) } });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) {
      reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    } else {
      this.lines.info({ reqId: request.id, req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
  }
}
