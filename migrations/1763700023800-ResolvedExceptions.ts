import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A person can settle a reconciliation exception that needs no more of Sprout (a bank fee debited under a tranche's
 * reference, a repeat of a transfer in another export, a credit since sorted out with the bank): resolved, by whom,
 * when and why, which takes it out of the report's exceptions. A match by hand of a credit that differs from its
 * tranche by a bank's fee carries its reason (`match_note`). Nullable columns without defaults: no table rewrite;
 * the constraint is added NOT VALID (every row already meets it, all four columns being null), so the upgrade does
 * not scan the statements' entries under its lock.
 */
export class ResolvedExceptions1763700023800 implements MigrationInterface {
  name = 'ResolvedExceptions1763700023800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE statement_entries
        ADD COLUMN resolved_at timestamptz,
        ADD COLUMN resolved_by uuid REFERENCES users(id),
        ADD COLUMN resolution_note text,
        ADD COLUMN match_note text,
        ADD CONSTRAINT statement_entries_resolution CHECK (
          (resolved_at IS NULL) = (resolved_by IS NULL) AND (resolved_at IS NULL) = (resolution_note IS NULL)
          AND (resolved_at IS NULL OR status IN ('mismatched', 'unmatched', 'duplicate'))
          AND (match_note IS NULL OR status = 'matched')) NOT VALID`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE statement_entries DROP CONSTRAINT statement_entries_resolution, DROP COLUMN resolved_at, DROP COLUMN resolved_by, DROP COLUMN resolution_note, DROP COLUMN match_note`);
  }
}
