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

/** Past this much of a refused body, the connection is closed instead of read to the end. */
export const MAX_DISCARDED_BYTES = 16 * 1024 * 1024;

/**
 * Reads and drops what the client still sends of a body the request gave up on midway (a write that failed): the
 * multipart parser waits for a part stream nobody reads any more, so the connection would hang after the answer. A
 * client that goes on sending past MAX_DISCARDED_BYTES (a refused upload of gigabytes) has its connection closed: the
 * answer went out long before.
 */
export function discardRestOfBody(request: FastifyRequest, maxBytes = MAX_DISCARDED_BYTES): void {
  const raw = request.raw;
  if (raw.complete) return;
  raw.unpipe();
  let discarded = 0;
  raw.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > maxBytes) raw.socket?.destroy();
  });
  raw.resume();
}
