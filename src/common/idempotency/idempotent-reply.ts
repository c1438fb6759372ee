import type { FastifyReply } from 'fastify';
import { IdempotentResult } from 'src/common/idempotency/idempotency.service';

/** The body to answer with; a replayed response keeps its first status and says so (`Idempotent-Replayed: true`). */
export function replay<T>(reply: FastifyReply, result: IdempotentResult<T>): T {
  if (result.replayed) reply.header('Idempotent-Replayed', 'true');
  reply.status(result.status);
  return result.body;
}
