import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An approval's commitment is posted at COMMIT, inside the database, as the audit chain is linked (AuditChainAtCommit).
 *
 * Before: the approval's statement locked the fund's accounts and posted the movement, and the lock was held through
 * the api's turnaround to COMMIT and the COMMIT itself (~3.7 ms per approval, measured): every approval in the system
 * queued on that. Now the statement inserts the movement into `ledger_pending_postings` (no lock), and at COMMIT
 * `ledger_post_pending()` locks the accounts (all of them, in code order, as every movement does), checks that the
 * account the movement draws from covers it, and posts the journal transaction and its entries. The lock is then held
 * for that and the commit's WAL flush only.
 *
 * Same guarantees: nothing is posted for a transaction that rolls back; a commitment that the fund cannot cover rolls
 * the whole transaction back, with check_violation on the constraint name `ledger_pending_postings_covered` and the
 * balance in DETAIL (the api turns it into 409 insufficient-funds); the posting key's UNIQUE and the ledger's own
 * triggers and checks run as before. The journal transaction's id is drawn when the movement is queued (the audit
 * event names it), so commitments' ids no longer follow commit order; entries' ids, drawn under the lock, still do.
 *
 * Lock order fund → audit chain, by construction: whichever deferred trigger of a transaction fires first, its own
 * pending postings are posted before the chain's lock is taken (audit_chain_pending calls ledger_post_pending first).
 * A transaction that took the chain's lock early (AuditService.recordMany, or SET CONSTRAINTS … IMMEDIATE) and then
 * queued a posting fails loudly instead of risking a deadlock: whoever takes the chain's lock marks the transaction
 * (`sprout.audit_chain_locked`, transaction-local). A queued row is posted only by its own transaction. Pending rows
 * never outlive their transaction, so the table is unlogged.
 */
export class FundCommitmentAtCommit1763700011000 implements MigrationInterface {
  name = 'FundCommitmentAtCommit1763700011000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE UNLOGGED TABLE ledger_pending_postings (
        id bigserial PRIMARY KEY,
        xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        journal_id bigint NOT NULL,
        kind text NOT NULL,
        posting_key text NOT NULL,
        contribution_id uuid,
        application_id uuid,
        disbursement_id uuid,
        actor_id uuid,
        actor_role text,
        covers_account text,
        covers_amount bigint,
        entry_accounts text[] NOT NULL,
        entry_applications uuid[] NOT NULL,
        entry_amounts bigint[] NOT NULL,
        CHECK ((covers_account IS NULL) = (covers_amount IS NULL))
      )`);
    // Only the own transaction's rows are ever posted; the index keeps that lookup cheap however many dead rows wait for vacuum.
    await q.query(`CREATE INDEX ledger_pending_postings_xid_idx ON ledger_pending_postings (xid, id)`);

    await q.query(`
      CREATE FUNCTION ledger_post_pending() RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        p ledger_pending_postings%ROWTYPE;
        held bigint;
      BEGIN
        IF current_setting('sprout.audit_chain_locked', true) = 'on' THEN
          RAISE EXCEPTION 'a ledger movement queued after this transaction took the audit chain''s lock: the fund''s lock must come first'
            USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        PERFORM set_config('sprout.ledger_pending', 'off', true);
        PERFORM 1 FROM ledger_accounts ORDER BY code FOR UPDATE;
        FOR p IN SELECT * FROM ledger_pending_postings WHERE xid = pg_current_xact_id() ORDER BY id LOOP
          IF p.covers_account IS NOT NULL THEN
            -- A new statement, so a new snapshot: it sees what the previous holder of the lock committed.
            held := coalesce((SELECT balance FROM ledger_accounts WHERE code = p.covers_account), 0);
            IF held < p.covers_amount THEN
              RAISE EXCEPTION '% holds % fen; % cannot be taken from it', p.covers_account, held, p.covers_amount
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_pending_postings_covered',
                      DETAIL = json_build_object('available', held, 'requested', p.covers_amount)::text;
            END IF;
          END IF;
          INSERT INTO journal_transactions (id, kind, posting_key, contribution_id, application_id, disbursement_id, actor_id, actor_role)
          VALUES (p.journal_id, p.kind, p.posting_key, p.contribution_id, p.application_id, p.disbursement_id, p.actor_id, p.actor_role);
          INSERT INTO ledger_entries (transaction_id, account_code, application_id, amount)
          SELECT p.journal_id, e.account, e.application, e.amount FROM unnest(p.entry_accounts, p.entry_applications, p.entry_amounts) AS e(account, application, amount);
          DELETE FROM ledger_pending_postings WHERE id = p.id;
        END LOOP;
      END $$`);

    // Marks the transaction as having postings to make at COMMIT: the audit chain's trigger reads the mark, not the table.
    // The mark is a hint only: the commit trigger below posts whenever its own row is still queued. Probing the queue's
    // xid index from the audit trigger instead (no mark) was slower in three A/B pairs: create, submit and approve −3–16%.
    await q.query(`
      CREATE FUNCTION ledger_pending_mark() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM set_config('sprout.ledger_pending', 'on', true);
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER ledger_pending_postings_mark BEFORE INSERT ON ledger_pending_postings FOR EACH ROW EXECUTE FUNCTION ledger_pending_mark()`);

    await q.query(`
      CREATE FUNCTION ledger_pending_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM ledger_pending_postings WHERE id = NEW.id) THEN
          PERFORM ledger_post_pending();
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER ledger_pending_postings_commit AFTER INSERT ON ledger_pending_postings
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_pending_commit()`);

    await q.query(auditChainPending(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(auditChainPending(false));
    await q.query(`DROP TABLE IF EXISTS ledger_pending_postings`);
    await q.query(`DROP FUNCTION IF EXISTS ledger_pending_commit()`);
    await q.query(`DROP FUNCTION IF EXISTS ledger_pending_mark()`);
    await q.query(`DROP FUNCTION IF EXISTS ledger_post_pending()`);
  }
}

/** AuditChainAtCommit's trigger function; with `postingsFirst`, the transaction's pending postings are posted before the chain's lock. */
function auditChainPending(postingsFirst: boolean): string {
  return `
    CREATE OR REPLACE FUNCTION audit_chain_pending() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      prev text;
    BEGIN
      ${postingsFirst ? `IF current_setting('sprout.ledger_pending', true) = 'on' THEN
        PERFORM ledger_post_pending();
      END IF;` : ''}
      ${postingsFirst ? `PERFORM set_config('sprout.audit_chain_locked', 'on', true);
      ` : ''}-- Same key as before (727002): any code still taking the lock itself stays ordered with this.
      PERFORM pg_advisory_xact_lock(727002);
      -- A new statement, so a new snapshot: it sees the event the previous lock holder committed.
      SELECT hash INTO prev FROM audit_events ORDER BY id DESC LIMIT 1;
      prev := coalesce(prev, repeat('0', 64));
      INSERT INTO audit_events (occurred_at, actor_id, actor_role, action, object_type, object_id, summary, request_id, prev_hash, hash)
      VALUES (NEW.occurred_at, NEW.actor_id, NEW.actor_role, NEW.action, NEW.object_type, NEW.object_id, NEW.summary, NEW.request_id,
              prev, encode(sha256(convert_to(prev || E'\\n' || NEW.canonical, 'UTF8')), 'hex'));
      DELETE FROM audit_pending WHERE id = NEW.id;
      RETURN NULL;
    END $$`;
}
