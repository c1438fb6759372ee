import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { IdempotencyKeyReusedException, IdempotentRequestInFlightException } from 'src/common/idempotency/idempotency.exceptions';
import { requestFingerprint } from 'src/common/idempotency/request-fingerprint';

export type IdempotentRequest = {
  /** The `Idempotency-Key` header (see `@IdempotencyKey()`); undefined runs the work once without a record. */
  key: string | undefined;
  /** Whose key it is, normally the user id: keys of different callers never collide. */
  principal: string;
  /** What is asked, e.g. `POST /fund/contributions` or `POST /disbursements/<id>/pay`; part of the fingerprint. */
  operation: string;
  /** The validated body (and anything else that changes the outcome); part of the fingerprint. */
  payload: unknown;
};

export type IdempotentResult<T> = { status: number; body: T; replayed: boolean };

/**
 * An in-flight claim older than this is taken to be from a process that died: its work never committed
 * (completion is written in the work's own transaction), so the request may run again. Far above the
 * database's statement and idle-in-transaction timeouts.
 */
const STALE_CLAIM_SECONDS = 300;

type KeyRow = { status: 'in_flight' | 'completed'; requestHash: string; responseStatus: number | null; responseBody: string | null };

/**
 * Idempotency-Key semantics of API.md for POSTs that move money: same key + same request replays the first
 * (successful) response; same key + another request → 422; same key while the first runs → 409.
 * A request that fails stores nothing: its transaction rolled back, so a retry runs it afresh.
 */
@Injectable()
export class IdempotencyService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Runs `work` in a new transaction, storing its result with the key in that same transaction.
   * `status` is the HTTP status of success, stored for the replay.
   */
  async execute<T>(request: IdempotentRequest, status: number, work: (tx: EntityManager) => Promise<T>): Promise<IdempotentResult<T>> {
    if (request.key === undefined) return { status, body: await this.dataSource.transaction(work), replayed: false };
    const hash = requestFingerprint(request.operation, request.payload);
    const attempt = randomUUID();
    for (let tries = 0; ; tries++) {
      if (await this.claim(request, hash, attempt)) break;
      const existing = await this.find(request);
      if (!existing) {
        if (tries < 3) continue; // the holder failed and let go between our two statements: claim again
        throw new IdempotentRequestInFlightException();
      }
      if (existing.requestHash !== hash) throw new IdempotencyKeyReusedException();
      if (existing.status === 'in_flight') throw new IdempotentRequestInFlightException();
      return { status: existing.responseStatus as number, body: JSON.parse(existing.responseBody as string) as T, replayed: true };
    }

    try {
      const body = await this.dataSource.transaction(async (tx) => {
        const result = await work(tx);
        const [, completed] = (await tx.query(
          `UPDATE idempotency_keys SET status = 'completed', response_status = $4, response_body = $5, completed_at = now()
            WHERE principal = $1 AND key = $2 AND attempt = $3 AND status = 'in_flight'`,
          [request.principal, request.key, attempt, status, JSON.stringify(result)],
        )) as [unknown, number];
        // Our claim went stale and another attempt took it over: that one does the work, this one must not.
        if (completed !== 1) throw new IdempotentRequestInFlightException();
        return result;
      });
      return { status, body, replayed: false };
    } catch (error) {
      await this.dataSource
        .query(`DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND attempt = $3 AND status = 'in_flight'`, [
          request.principal,
          request.key,
          attempt,
        ])
        .catch(() => undefined); // a claim left behind goes stale and is taken over
      throw error;
    }
  }

  /** Claims the key in its own committed statement, so a concurrent duplicate sees it at once. */
  private async claim(request: IdempotentRequest, hash: string, attempt: string): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `INSERT INTO idempotency_keys AS k (principal, key, operation, request_hash, status, attempt)
       VALUES ($1, $2, $3, $4, 'in_flight', $5)
       ON CONFLICT (principal, key) DO UPDATE SET attempt = EXCLUDED.attempt, started_at = now()
        WHERE k.status = 'in_flight' AND k.request_hash = EXCLUDED.request_hash AND k.started_at < now() - make_interval(secs => $6)
       RETURNING k.attempt`,
      [request.principal, request.key, request.operation, hash, attempt, STALE_CLAIM_SECONDS],
    )) as { attempt: string }[];
    return rows[0]?.attempt === attempt;
  }

  private async find(request: IdempotentRequest): Promise<KeyRow | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT status, request_hash AS "requestHash", response_status AS "responseStatus", response_body AS "responseBody"
         FROM idempotency_keys WHERE principal = $1 AND key = $2`,
      [request.principal, request.key],
    )) as KeyRow[];
    return rows[0];
  }
}
