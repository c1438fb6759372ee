import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { genericProblem } from 'src/common/problem/problem.filter';

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

/**
 * Fastify refuses some requests before any route (and so before Nest's filter) runs: a malformed URL encoding, a path
 * parameter past maxParamLength. Without this they answered with Fastify's own JSON, not problem+json.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 400;
  const detail = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long.' : status < 500 ? 'The request URL is malformed.' : undefined;
  void reply.code(status).header('Content-Type', PROBLEM_JSON).send(genericProblem(status, detail));
}

/** Node's HTTP parser errors (oversized headers, timeouts, garbage): answered as problem+json on the raw socket. */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const body = JSON.stringify(genericProblem(status));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_JSON}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}
