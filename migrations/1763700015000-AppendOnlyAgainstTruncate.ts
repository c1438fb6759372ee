import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The append-only tables (and the ledger's balances) refuse TRUNCATE as they refuse UPDATE and DELETE: their row
 * triggers do not fire on TRUNCATE, so the table's owner — the application's role — could empty the audit trail or the
 * ledger in one statement, and GET /audit/verify would then check an empty chain and answer ok.
 */
// audit_events last: every audited transaction writes it at COMMIT, so a lock on it taken while this migration still
// waits for another table would hold every such transaction, and deadlock with the one holding that table.
const TABLES = [
  'decisions',
  'info_requests',
  'fund_contributions',
  'journal_transactions',
  'ledger_entries',
  'ledger_accounts',
  'ledger_grant_balances',
  'audit_events',
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
