import { MigrationInterface, QueryRunner } from 'typeorm';

/** Staff lists (all submitted applications, or one hospital's) newest submission first, without a sort. */
export class ApplicationListIndexes1763700001100 implements MigrationInterface {
  name = 'ApplicationListIndexes1763700001100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX applications_hospital_idx`);
    await q.query(
      `CREATE INDEX applications_hospital_first_submitted_idx ON applications (hospital_id, first_submitted_at, id) WHERE first_submitted_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX applications_hospital_first_submitted_idx`);
    await q.query(`CREATE INDEX applications_hospital_idx ON applications (hospital_id, submitted_at, id)`);
  }
}
