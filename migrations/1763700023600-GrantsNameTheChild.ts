import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A grant's decision (kind approval or second_approval) carries the child's national-id hash, so that reviewers can
 * be shown the earlier grants to the same child (ApplicationRecords.earlierGrants): a child funded to the cap last
 * year may apply again. The applications' own index on that hash holds open applications only, on purpose (a statement
 * import completes up to 200,000 at once, and none of them should write to it); decisions are written once, at
 * approval, and never change. Decisions written before are given it here.
 */
export class GrantsNameTheChild1763700023600 implements MigrationInterface {
  name = 'GrantsNameTheChild1763700023600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE decisions ADD COLUMN patient_national_id_hash text`);
    // Decisions are append-only: the trigger is off for this one backfill of a column derived from the application,
    // in the migration's transaction (no decision can be written meanwhile: ALTER TABLE holds the table), as
    // ContributionReferenceKeys did. What was decided, by whom and when does not change.
    await q.query(`ALTER TABLE decisions DISABLE TRIGGER decisions_append_only`);
    await q.query(`
      UPDATE decisions d SET patient_national_id_hash = a.patient_national_id_hash
        FROM applications a
       WHERE a.id = d.application_id AND d.kind IN ('approval', 'second_approval') AND a.patient_national_id_hash IS NOT NULL`);
    await q.query(`ALTER TABLE decisions ENABLE TRIGGER decisions_append_only`);
    await q.query(`CREATE INDEX decisions_grants_by_child_idx ON decisions (patient_national_id_hash) WHERE patient_national_id_hash IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE decisions DROP COLUMN patient_national_id_hash`);
  }
}
