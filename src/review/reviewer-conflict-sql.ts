/**
 * A boolean SQL expression over an application row (alias `a`): true when the user whose id `reviewer` gives (a
 * placeholder or a column) may not decide it — it is their own application (a family account later made staff
 * applied with it), or reviewer_conflicts links them to its family or its hospital. Every review action checks it
 * (ReviewerConflictsService.conflictFlag); the reviewer digest leaves out what it flags.
 */
export function reviewerConflictSql(reviewer: string): string {
  return `(a.applicant_id = ${reviewer}::uuid
        OR EXISTS (SELECT 1 FROM reviewer_conflicts rc WHERE rc.reviewer_id = ${reviewer}::uuid AND (rc.applicant_id = a.applicant_id OR rc.hospital_id = a.hospital_id)))`;
}
