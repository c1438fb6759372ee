import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The fund's double-entry ledger. Entries are signed fen: positive = debit, negative = credit.
 * The database, not the code, guarantees the invariants:
 *  - every journal transaction has at least two entries summing to zero (checked at commit);
 *  - entries join only a journal transaction created in the same database transaction;
 *  - journal transactions, entries and contributions are append-only;
 *  - cached balances change only through posted entries, and never go below zero
 *    (the credit-normal `donations` account never above zero), per account and per grant.
 */
export class FundLedger1763700002000 implements MigrationInterface {
  name = 'FundLedger1763700002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ledger_accounts (
        code text PRIMARY KEY CHECK (code ~ '^[a-z]+(:[a-z]+)*$'),
        normal_side text NOT NULL CHECK (normal_side IN ('debit','credit')),
        per_grant boolean NOT NULL DEFAULT false,
        balance bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ledger_accounts_balance_sign CHECK (CASE normal_side WHEN 'debit' THEN balance >= 0 ELSE balance <= 0 END)
      )`);
    await q.query(`
      INSERT INTO ledger_accounts (code, normal_side, per_grant) VALUES
        ('donations', 'credit', false),
        ('fund:available', 'debit', false),
        ('fund:committed', 'debit', true),
        ('fund:disbursed', 'debit', true)`);

    // Per-grant sub-ledger of the per_grant accounts: what one application has committed and disbursed.
    await q.query(`
      CREATE TABLE ledger_grant_balances (
        application_id uuid NOT NULL,
        account_code text NOT NULL REFERENCES ledger_accounts(code),
        balance bigint NOT NULL CHECK (balance >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (application_id, account_code)
      )`);

    await q.query(`
      CREATE TABLE fund_contributions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        amount bigint NOT NULL CHECK (amount BETWEEN 1 AND 1000000000000),
        donor_name text NOT NULL CHECK (length(donor_name) BETWEEN 1 AND 200),
        received_on date NOT NULL,
        reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 100),
        recorded_by uuid REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT fund_contributions_reference_key UNIQUE (reference)
      )`);
    await q.query(`CREATE INDEX fund_contributions_received_idx ON fund_contributions (received_on DESC, id DESC)`);

    await q.query(`
      CREATE TABLE journal_transactions (
        id bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('contribution','commitment','release','payment','return')),
        posting_key text NOT NULL CHECK (length(posting_key) BETWEEN 1 AND 200),
        contribution_id uuid REFERENCES fund_contributions(id),
        application_id uuid,
        disbursement_id uuid,
        actor_id uuid,
        actor_role text,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        CONSTRAINT journal_transactions_posting_key_key UNIQUE (posting_key),
        CONSTRAINT journal_transactions_references CHECK (CASE kind
          WHEN 'contribution' THEN contribution_id IS NOT NULL
          WHEN 'commitment' THEN application_id IS NOT NULL
          WHEN 'release' THEN application_id IS NOT NULL
          ELSE application_id IS NOT NULL AND disbursement_id IS NOT NULL END)
      )`);
    await q.query(`CREATE INDEX journal_transactions_application_idx ON journal_transactions (application_id, id) WHERE application_id IS NOT NULL`);
    await q.query(`CREATE INDEX journal_transactions_disbursement_idx ON journal_transactions (disbursement_id, id) WHERE disbursement_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE ledger_entries (
        id bigserial PRIMARY KEY,
        transaction_id bigint NOT NULL REFERENCES journal_transactions(id),
        account_code text NOT NULL REFERENCES ledger_accounts(code),
        application_id uuid,
        amount bigint NOT NULL CHECK (amount <> 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id)`);
    await q.query(`CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_code, id)`);
    await q.query(`CREATE INDEX ledger_entries_grant_idx ON ledger_entries (application_id, account_code) WHERE application_id IS NOT NULL`);

    // Posting an entry moves the cached balances, in the same statement: code cannot forget to.
    // SECURITY DEFINER: a deployment may grant its application role INSERT on entries and nothing on balances.
    await q.query(`
      CREATE FUNCTION ledger_post_entry() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        acct ledger_accounts%ROWTYPE;
      BEGIN
        IF (SELECT created_xid FROM journal_transactions WHERE id = NEW.transaction_id) IS DISTINCT FROM pg_current_xact_id() THEN
          RAISE EXCEPTION 'entries join only a journal transaction created in the same database transaction'
            USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        SELECT * INTO acct FROM ledger_accounts WHERE code = NEW.account_code;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'ledger account % does not exist', NEW.account_code USING ERRCODE = 'foreign_key_violation';
        END IF;
        IF acct.per_grant AND NEW.application_id IS NULL THEN
          RAISE EXCEPTION 'entries on % need an application_id', NEW.account_code USING ERRCODE = 'not_null_violation';
        END IF;
        UPDATE ledger_accounts SET balance = balance + NEW.amount, updated_at = now() WHERE code = NEW.account_code;
        IF acct.per_grant THEN
          -- Not INSERT … ON CONFLICT: the CHECK would judge the proposed row (a negative amount) before the conflict.
          -- Grant movements all lock fund:committed first, so two first entries of one grant cannot race here.
          UPDATE ledger_grant_balances SET balance = balance + NEW.amount, updated_at = now()
           WHERE application_id = NEW.application_id AND account_code = NEW.account_code;
          IF NOT FOUND THEN
            INSERT INTO ledger_grant_balances (application_id, account_code, balance) VALUES (NEW.application_id, NEW.account_code, NEW.amount);
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER ledger_entries_post AFTER INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_post_entry()`);

    // Checked at COMMIT, once per journal transaction: entries can only join a journal transaction of the same
    // database transaction (above), so this sees all of them.
    await q.query(`
      CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        n integer;
        total numeric;
      BEGIN
        SELECT count(*), coalesce(sum(amount), 0) INTO n, total FROM ledger_entries WHERE transaction_id = NEW.id;
        IF n < 2 OR total <> 0 THEN
          RAISE EXCEPTION 'journal transaction % is unbalanced: % entries summing to %', NEW.id, n, total
            USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER journal_transactions_balanced AFTER INSERT ON journal_transactions
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()`);

    // Balances are a cache of the entries: writable only from ledger_post_entry (trigger depth 2), never deleted.
    await q.query(`
      CREATE FUNCTION ledger_balance_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_TABLE_NAME = 'ledger_accounts' AND TG_OP = 'INSERT' THEN
          IF NEW.balance <> 0 THEN
            RAISE EXCEPTION 'a ledger account opens with a zero balance' USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' OR pg_trigger_depth() < 2 THEN
          RAISE EXCEPTION '% change only by posting ledger entries', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_TABLE_NAME = 'ledger_accounts' THEN
          IF NEW.code <> OLD.code OR NEW.normal_side <> OLD.normal_side OR NEW.per_grant <> OLD.per_grant THEN
            RAISE EXCEPTION 'a ledger account''s code and kind are fixed' USING ERRCODE = 'insufficient_privilege';
          END IF;
        ELSIF NEW.application_id <> OLD.application_id OR NEW.account_code <> OLD.account_code THEN
          RAISE EXCEPTION 'a grant balance''s keys are fixed' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER ledger_accounts_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_accounts FOR EACH ROW EXECUTE FUNCTION ledger_balance_guard()`);
    await q.query(`CREATE TRIGGER ledger_grant_balances_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_grant_balances FOR EACH ROW EXECUTE FUNCTION ledger_balance_guard()`);

    // Append-only for everyone, the application's role included (forbid_change() comes from the audit trail migration).
    for (const table of ['journal_transactions', 'ledger_entries', 'fund_contributions']) {
      await q.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
      await q.query(`REVOKE UPDATE, DELETE ON ${table} FROM PUBLIC`);
    }
    await q.query(`REVOKE UPDATE, DELETE ON ledger_accounts, ledger_grant_balances FROM PUBLIC`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS ledger_entries`);
    await q.query(`DROP TABLE IF EXISTS journal_transactions`);
    await q.query(`DROP TABLE IF EXISTS fund_contributions`);
    await q.query(`DROP TABLE IF EXISTS ledger_grant_balances`);
    await q.query(`DROP TABLE IF EXISTS ledger_accounts`);
    await q.query(`DROP FUNCTION IF EXISTS ledger_balance_guard()`);
    await q.query(`DROP FUNCTION IF EXISTS ledger_check_balanced()`);
    await q.query(`DROP FUNCTION IF EXISTS ledger_post_entry()`);
  }
}
