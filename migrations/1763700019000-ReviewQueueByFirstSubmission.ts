import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The review queue in order of first submission: a family that answers a reviewer's question keeps its child's place
 * instead of going behind every application submitted meanwhile. The index also serves staff lists filtered by status
 * (newest first submission first) and, partial, leaves drafts out: creating a draft writes one index fewer.
 *
 * Built and dropped CONCURRENTLY, outside a transaction: applications is the largest table, and a plain build would
 * hold back every create, edit, submission and approval for as long as it takes. An attempt cut short leaves an
 * invalid index behind, which the next attempt drops first.
 */
export class ReviewQueueByFirstSubmission1763700019000 implements MigrationInterface {
  name = 'ReviewQueueByFirstSubmission1763700019000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS applications_status_first_submitted_idx`);
    await q.query(
      `CREATE INDEX CONCURRENTLY applications_status_first_submitted_idx ON applications (status, first_submitted_at, id) WHERE first_submitted_at IS NOT NULL`,
    );
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS applications_status_submitted_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS applications_status_submitted_idx ON applications (status, submitted_at, id)`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS applications_status_first_submitted_idx`);
  }
}
