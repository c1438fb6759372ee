import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A document records the submission that took it to reviewers (`submitted_at`, set by the submit's own statement).
 * Before, "submitted" was worked out as created_at <= the application's submitted_at: two times written by the clocks
 * of whichever api replicas served the upload and the submit. With clocks apart, a document reviewers assessed could be
 * deleted by the family after an info request, and one uploaded while answering could not be. The documents not yet
 * submitted are also the only ones the per-application budget counts now.
 *
 * Nullable and without a default: a change of the catalog only, no rewrite, so the table's exclusive lock is held for
 * moments. The existing rows are filled by the next migration, DocumentsOfEarlierSubmissions, in a transaction of its
 * own, which locks only the rows it writes.
 */
export class DocumentsRecordTheirSubmission1763700022500 implements MigrationInterface {
  name = 'DocumentsRecordTheirSubmission1763700022500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE application_documents ADD COLUMN submitted_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE application_documents DROP COLUMN submitted_at`);
  }
}
