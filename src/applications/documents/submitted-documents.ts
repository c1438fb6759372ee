import type { SqlPart } from 'src/database/statement-parts';

/**
 * The submit's part that takes every document not yet submitted to reviewers with it (one of its statement's CTEs).
 * Recorded as a fact under the application's row lock, which uploads and deletions take too: whether a document was
 * part of a submission is never worked out by comparing its created_at with the application's submitted_at, two times
 * written by the clocks of whichever replicas served the upload and the submit.
 */
export function submitDocumentsOf(applicationId: string): SqlPart {
  return { sql: 'UPDATE application_documents SET submitted = true WHERE application_id = $1 AND NOT submitted', params: [applicationId] };
}
