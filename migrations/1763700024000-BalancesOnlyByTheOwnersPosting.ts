import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger's cached balances change only through ledger_post_entry, the posting trigger that runs as the tables'
 * owner. Their guard let through any change made from inside a trigger (depth 2), and the posting function could be
 * attached to any table: a role with row rights only (DATABASE_OWNER_URL's runtime role) could set a balance to any
 * figure from a trigger of its own on a temporary table, or fire the posting function from a temporary copy of
 * ledger_entries with entries that never exist (a review of the runtime role, both shown on a scratch database). Now
 * the guard also wants the posting function's owner as the current user, which only that function's SECURITY DEFINER
 * gives, and nobody else may attach the function to a table (PostgreSQL checks EXECUTE when a trigger is created;
 * firing it needs no right).
 */
export class BalancesOnlyByTheOwnersPosting1763700024000 implements MigrationInterface {
  name = 'BalancesOnlyByTheOwnersPosting1763700024000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(guard(`TG_OP = 'DELETE' OR pg_trigger_depth() < 2 OR current_user <> (SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE oid = 'public.ledger_post_entry()'::regprocedure)`));
    await q.query(`REVOKE EXECUTE ON FUNCTION ledger_post_entry() FROM PUBLIC`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`GRANT EXECUTE ON FUNCTION ledger_post_entry() TO PUBLIC`);
    await q.query(guard(`TG_OP = 'DELETE' OR pg_trigger_depth() < 2`));
  }
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
