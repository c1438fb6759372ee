import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';

/**
 * Fails a multipart file part's stream with `tooLarge()` as soon as it passes its size limit. @fastify/multipart only
 * marks it truncated and stops watching it: the stream then ends only if the client sends the part's closing delimiter,
 * so the whole limit was written to disk before the refusal, and a client that stalled or went away past the limit
 * left the write waiting for good, its partial file open on disk.
 */
export function failAtSizeLimit(file: Readable & { truncated?: boolean }, tooLarge: () => Error): void {
  if (file.truncated) file.destroy(tooLarge());
  else file.once('limit', () => file.destroy(tooLarge()));
}

/**
 * Reads and drops what the client still sends of a body the request gave up on midway (a write that failed): the
 * multipart parser waits for a part stream nobody reads any more, so the connection would hang after the answer.
 */
export function discardRestOfBody(request: FastifyRequest): void {
  if (request.raw.complete) return;
  request.raw.unpipe();
  request.raw.resume();
}
