import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger's triggers hold against a role with row rights only (DATABASE_OWNER_URL's runtime role), as two reviews
 * of that role showed they did not, each way proved on a scratch database:
 * - the cached balances' guard let through any change made from inside a trigger (depth 2): a trigger of the role's
 *   own on a temporary table set a balance to any figure. It now also wants the posting function's owner as the
 *   current user, which only that function's SECURITY DEFINER gives;
 * - the posting function could be attached to a table of the role's own: EXECUTE is revoked from PUBLIC (PostgreSQL
 *   checks it when a trigger is created; firing one needs no right);
 * - a temporary table shadows an unqualified name (pg_temp is searched first), and the guard's pg_proc and the
 *   balance check's ledger_entries were unqualified: every function of the schema's own now runs with
 *   `search_path = pg_catalog, public, pg_temp`;
 * - `SET CONSTRAINTS … IMMEDIATE` ran the journal's one deferred balance check early, after which a transaction could
 *   add an unbalanced entry: every entry now queues a check of its own transaction;
 * - a queued posting's xid came from the caller, so a row could wait for a later transaction's id: it is set to the
 *   inserting transaction's.
 */
export class LedgerTriggersHoldAgainstTheRuntimeRole1763700024000 implements MigrationInterface {
  name = 'LedgerTriggersHoldAgainstTheRuntimeRole1763700024000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(guard(`TG_OP = 'DELETE' OR pg_trigger_depth() < 2 OR current_user <> (SELECT pg_get_userbyid(p.proowner) FROM pg_catalog.pg_proc p WHERE p.oid = 'public.ledger_post_entry()'::regprocedure)`));
    await q.query(`REVOKE EXECUTE ON FUNCTION ledger_post_entry() FROM PUBLIC`);
    await q.query(`
      CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        n integer;
        total numeric;
      BEGIN
        SELECT count(*), coalesce(sum(amount), 0) INTO n, total FROM public.ledger_entries WHERE transaction_id = NEW.transaction_id;
        IF n < 2 OR total <> 0 THEN
          RAISE EXCEPTION 'journal transaction % is unbalanced: % entries summing to %', NEW.transaction_id, n, total
            USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced()`);
    await q.query(`
      CREATE OR REPLACE FUNCTION ledger_pending_mark() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.xid := pg_current_xact_id();
        PERFORM set_config('sprout.ledger_pending', 'on', true);
        RETURN NEW;
      END $$`);
    await q.query(pinSearchPaths('SET search_path = pg_catalog, public, pg_temp'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(pinSearchPaths('RESET search_path'));
    await q.query(`
      CREATE OR REPLACE FUNCTION ledger_pending_mark() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM set_config('sprout.ledger_pending', 'on', true);
        RETURN NEW;
      END $$`);
    await q.query(`DROP TRIGGER ledger_entries_balanced ON ledger_entries`);
    await q.query(`DROP FUNCTION ledger_entry_balanced()`);
    await q.query(`GRANT EXECUTE ON FUNCTION ledger_post_entry() TO PUBLIC`);
    await q.query(guard(`TG_OP = 'DELETE' OR pg_trigger_depth() < 2`));
  }
}

/**
 * `setting` on every function of the schema's own that is not IMMUTABLE (those read no table) and not an extension's,
 * but ledger_post_entry, which has its own (`public, pg_temp`, pg_catalog implied first).
 */
function pinSearchPaths(setting: string): string {
  return `
    DO $$
    DECLARE f regprocedure;
    BEGIN
      FOR f IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f' AND p.provolatile <> 'i'
           AND p.oid <> 'public.ledger_post_entry()'::regprocedure
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
      LOOP
        EXECUTE format('ALTER FUNCTION %s ${setting}', f);
      END LOOP;
    END $$`;
}

/** ledger_balance_guard as FundLedger wrote it, refusing a change when `refused`. */
function guard(refused: string): string {
  return `
    CREATE OR REPLACE FUNCTION ledger_balance_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'ledger_accounts' AND TG_OP = 'INSERT' THEN
        IF NEW.balance <> 0 THEN
          RAISE EXCEPTION 'a ledger account opens with a zero balance' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END IF;
      IF ${refused} THEN
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
    END $$`;
}
