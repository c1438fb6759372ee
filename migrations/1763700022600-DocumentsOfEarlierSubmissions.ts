import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Marks as not submitted the documents of an existing database that no submission took (DocumentsRecordTheirSubmission
 * left every one marked submitted): those of applications never submitted, and those a family uploaded after the latest
 * submission of an application now waiting for its answer (info_requested). Documents of applications in any other
 * status are all submitted: an upload is possible only in draft and info_requested, and a submission ends both.
 *
 * Which uploads came after the latest submission: by the audit trail where the upload was audited — its ids are given at
 * commit, in the order of the application's row lock that an upload and a submit both hold, so no clock is needed —
 * else (rows written by hand or by a seed) by the times, as the old rule compared them.
 *
 * It writes only those few rows (on the bench's 4.7 million documents, some 120,000, those of drafts), in a transaction
 * of its own: the rows it locks are documents no one else writes meanwhile but their family's upload or submit.
 */
export class DocumentsOfEarlierSubmissions1763700022600 implements MigrationInterface {
  name = 'DocumentsOfEarlierSubmissions1763700022600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE application_documents d SET submitted = false
        FROM applications a
       WHERE a.id = d.application_id AND d.submitted AND a.first_submitted_at IS NULL`);
    await q.query(`
      WITH answering AS (
        SELECT a.id, (SELECT max(s.id) FROM audit_events s
                       WHERE s.object_type = 'application' AND s.object_id = a.id::text AND s.action = 'application.submitted') AS last_submit,
               a.submitted_at
          FROM applications a WHERE a.status = 'info_requested'
      )
      UPDATE application_documents d SET submitted = false
        FROM answering w
       WHERE d.application_id = w.id AND d.submitted
         AND coalesce(
               (SELECT u.id > w.last_submit FROM audit_events u
                 WHERE u.object_type = 'application' AND u.object_id = w.id::text AND u.action = 'document.uploaded'
                   AND u.summary->>'documentId' = d.id::text
                 ORDER BY u.id LIMIT 1),
               d.created_at > w.submitted_at)`);
  }

  /** Nothing: DocumentsRecordTheirSubmission's down drops the column. */
  async down(): Promise<void> {}
}
