import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit chain is linked at COMMIT, inside the database, instead of in the middle of each transaction.
 *
 * Before: AuditService.record took the chain's advisory lock, read the last hash and inserted the event — three
 * round trips — and held the lock until COMMIT, so every audited write in the system queued behind the client
 * round trips of the one before it. Now record() inserts the event's content and its canonical JSON into
 * `audit_pending` (no lock), and a deferred constraint trigger moves it into `audit_events` when the transaction
 * commits: lock, read the last hash, compute sha256(prev || '\n' || canonical) — the same bytes chainHash() hashes —
 * and insert, all server-side. The lock is now held only for that and the commit's WAL flush.
 *
 * Same guarantees: one predecessor per event (the lock, then a fresh snapshot per statement in the trigger),
 * nothing chained for a transaction that rolls back, AuditService.verify() unchanged. Pending rows never outlive
 * their transaction, so the table is unlogged.
 */
export class AuditChainAtCommit1763700008000 implements MigrationInterface {
  name = 'AuditChainAtCommit1763700008000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE UNLOGGED TABLE audit_pending (
        id bigserial PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        actor_id uuid,
        actor_role text,
        action text NOT NULL,
        object_type text NOT NULL,
        object_id text,
        summary jsonb NOT NULL,
        request_id text,
        canonical text NOT NULL
      )`);
    await q.query(`
      CREATE FUNCTION audit_chain_pending() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        prev text;
      BEGIN
        -- Same key as before (727002): any code still taking the lock itself stays ordered with this.
        PERFORM pg_advisory_xact_lock(727002);
        -- A new statement, so a new snapshot: it sees the event the previous lock holder committed.
        SELECT hash INTO prev FROM audit_events ORDER BY id DESC LIMIT 1;
        prev := coalesce(prev, repeat('0', 64));
        INSERT INTO audit_events (occurred_at, actor_id, actor_role, action, object_type, object_id, summary, request_id, prev_hash, hash)
        VALUES (NEW.occurred_at, NEW.actor_id, NEW.actor_role, NEW.action, NEW.object_type, NEW.object_id, NEW.summary, NEW.request_id,
                prev, encode(sha256(convert_to(prev || E'\\n' || NEW.canonical, 'UTF8')), 'hex'));
        DELETE FROM audit_pending WHERE id = NEW.id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER audit_pending_chain AFTER INSERT ON audit_pending
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_chain_pending()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_pending`);
    await q.query(`DROP FUNCTION IF EXISTS audit_chain_pending()`);
  }
}
