import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The append-only tables (and the ledger's balances) refuse TRUNCATE as they refuse UPDATE and DELETE: their row
 * triggers do not fire on TRUNCATE, so the table's owner — the application's role — could empty the audit trail or the
 * ledger in one statement, and GET /audit/verify would then check an empty chain and answer ok.
 */
const TABLES = [
  'audit_events',
  'decisions',
  'info_requests',
  'journal_transactions',
  'ledger_entries',
  'fund_contributions',
  'ledger_accounts',
  'ledger_grant_balances',
];

export class AppendOnlyAgainstTruncate1763700015000 implements MigrationInterface {
  name = 'AppendOnlyAgainstTruncate1763700015000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      await q.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION forbid_change()`);
      await q.query(`REVOKE TRUNCATE ON ${table} FROM PUBLIC`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) await q.query(`DROP TRIGGER IF EXISTS ${table}_no_truncate ON ${table}`);
  }
}
