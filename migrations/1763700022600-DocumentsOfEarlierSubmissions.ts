import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Marks the documents that submissions made before DocumentsRecordTheirSubmission took to reviewers.
 *
 * The audit trail first: its ids are given at commit, in the order of the application's row lock, which an upload and
 * a submit both hold, so "a submit after the upload" is known without a clock, and the document takes that submit's
 * time. A document whose upload was not audited (rows written by hand or by a seed) takes the old rule, comparing its
 * created_at with the first submission and then with the latest: created between the two, it went with a resubmission.
 *
 * One UPDATE, in a transaction apart from the column's: it locks only the rows it marks, so the release still serving
 * reads, uploads and submits meanwhile, and the rows it holds are documents of a submission, which families could not
 * delete anyway. Its joins read the upload and submit events once each: 300,000 documents and 450,000 events took
 * 17–23 s on the development machine (2 shared cores, busy), the old rule alone 9–14 s. Batches would need a migration
 * outside a transaction, and would spare no one a wait.
 */
export class DocumentsOfEarlierSubmissions1763700022600 implements MigrationInterface {
  name = 'DocumentsOfEarlierSubmissions1763700022600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      WITH uploaded AS (
        SELECT DISTINCT ON (summary->>'documentId') summary->>'documentId' AS document_id, id AS event_id, object_id
          FROM audit_events
         WHERE action = 'document.uploaded' AND object_type = 'application'
         ORDER BY summary->>'documentId', id
      ), next_submit AS (
        SELECT DISTINCT ON (u.document_id) u.document_id, s.occurred_at
          FROM uploaded u
          JOIN audit_events s ON s.object_type = 'application' AND s.object_id = u.object_id AND s.id > u.event_id AND s.action = 'application.submitted'
         ORDER BY u.document_id, s.id
      ), marks AS (
        SELECT d.id,
               CASE
                 WHEN u.document_id IS NOT NULL THEN n.occurred_at
                 WHEN d.created_at <= a.first_submitted_at THEN a.first_submitted_at
                 WHEN d.created_at <= a.submitted_at THEN a.submitted_at
               END AS submitted_at
          FROM application_documents d
          JOIN applications a ON a.id = d.application_id AND a.submitted_at IS NOT NULL
          LEFT JOIN uploaded u ON u.document_id = d.id::text
          LEFT JOIN next_submit n ON n.document_id = d.id::text
      )
      UPDATE application_documents d SET submitted_at = marks.submitted_at
        FROM marks
       WHERE d.id = marks.id AND marks.submitted_at IS NOT NULL`);
  }

  /** Nothing: emptying the column would also forget what submits recorded since; DocumentsRecordTheirSubmission's down drops it. */
  async down(): Promise<void> {}
}
