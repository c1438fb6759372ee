import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency-Key records for POSTs that move money (API.md "Idempotency"). A key belongs to the caller who
 * sent it. `in_flight` is claimed in its own short statement so concurrent duplicates see it at once; the
 * response is stored in the same transaction as the work, so "completed" exists exactly when the work committed.
 */
export class IdempotencyKeys1763700002100 implements MigrationInterface {
  name = 'IdempotencyKeys1763700002100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        principal text NOT NULL CHECK (length(principal) BETWEEN 1 AND 100),
        key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
        operation text NOT NULL,
        request_hash text NOT NULL,
        status text NOT NULL CHECK (status IN ('in_flight','completed')),
        attempt uuid NOT NULL,
        response_status integer,
        response_body text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        PRIMARY KEY (principal, key),
        CONSTRAINT idempotency_keys_completed_has_response CHECK ((status = 'completed') = (response_status IS NOT NULL AND response_body IS NOT NULL AND completed_at IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS idempotency_keys`);
  }
}
