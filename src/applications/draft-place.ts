import type { SqlPart } from 'src/database/statement-parts';

/** SQLSTATE take_draft_place raises when the account has no place for another draft; its DETAIL is how many it has. */
export const DRAFTS_FULL = 'SPD01';

/**
 * A part of the create's writing statement that takes a place for the new draft among the account's
 * MAX_OPEN_DRAFTS_PER_ACCOUNT (migration DraftPlaceInTheCreate): raising DRAFTS_FULL undoes the whole statement. A
 * plain SELECT, so the statement's final SELECT must read it for it to run.
 */
export function draftPlaceOf(applicantId: string, applicationId: string, most: number): SqlPart {
  return { sql: 'SELECT take_draft_place($1::uuid, $2::uuid, $3::int)', params: [applicantId, applicationId, most] };
}
