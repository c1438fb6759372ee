import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A document records whether a submission took it to reviewers (`submitted`, set by the submit's own statement).
 * Before, "submitted" was worked out as created_at <= the application's submitted_at: two times written by the clocks
 * of whichever api replicas served the upload and the submit. With clocks apart, a document reviewers assessed could be
 * deleted by the family after an info request, and one uploaded while answering could not be. The documents not yet
 * submitted are also the only ones the per-application budget counts now.
 *
 * Catalog changes only, no rewrite of the table: the column is added with the default true, which the rows already
 * there read without being written (PostgreSQL keeps it as the column's "missing value"), and the default for rows
 * written from now on is then false. Almost every document of an existing database went with a submission; the next
 * migration, DocumentsOfEarlierSubmissions, turns the few that did not back to false. (A first version wrote the
 * submission's time into every submitted row: 4.7 million documents took 11 minutes, while no api could start.)
 */
export class DocumentsRecordTheirSubmission1763700022500 implements MigrationInterface {
  name = 'DocumentsRecordTheirSubmission1763700022500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE application_documents ADD COLUMN submitted boolean NOT NULL DEFAULT true`);
    await q.query(`ALTER TABLE application_documents ALTER COLUMN submitted SET DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE application_documents DROP COLUMN submitted`);
  }
}
