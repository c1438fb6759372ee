import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The review queue in order of first submission: a family that answers a reviewer's question keeps its child's place
 * instead of going behind every application submitted meanwhile. The index also serves staff lists filtered by status
 * (newest first submission first) and, partial, leaves drafts out: creating a draft writes one index fewer.
 */
export class ReviewQueueByFirstSubmission1763700019000 implements MigrationInterface {
  name = 'ReviewQueueByFirstSubmission1763700019000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX applications_status_first_submitted_idx ON applications (status, first_submitted_at, id) WHERE first_submitted_at IS NOT NULL`,
    );
    await q.query(`DROP INDEX applications_status_submitted_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX applications_status_submitted_idx ON applications (status, submitted_at, id)`);
    await q.query(`DROP INDEX applications_status_first_submitted_idx`);
  }
}
