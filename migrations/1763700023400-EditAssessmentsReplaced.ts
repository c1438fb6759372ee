import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Since this release an edit of an application replaces its means assessment instead of adding one (each is a copy of
 * the household's income, assets and debts). The assessments earlier releases added per edit are deleted here: per
 * application, those of the edits before its latest (trigger created or updated). Kept are the latest edit's, which
 * the release would have left, and every one a submission took (trigger submitted), what the reviewers decided on.
 * The latest assessment of each application, whichever it is, stays, so nothing that reads it changes.
 */
export class EditAssessmentsReplaced1763700023400 implements MigrationInterface {
  name = 'EditAssessmentsReplaced1763700023400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM means_assessments m
       WHERE m.trigger <> 'submitted'
         AND EXISTS (SELECT 1 FROM means_assessments later
                      WHERE later.application_id = m.application_id AND later.trigger <> 'submitted' AND later.id > m.id)`);
  }

  async down(): Promise<void> {
    // What was deleted is gone: nothing to restore, and nothing of the schema changed.
  }
}
