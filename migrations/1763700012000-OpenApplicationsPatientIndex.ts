import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The patient's national-id hash is looked up for one question only: is this child in another *open* application
 * (ApplicationRecords.assessmentFacts)? The index now holds only applications that are not final, with the predicate
 * written exactly as that query writes it, so the planner can use it in generic plans too.
 *
 * What it saves: a final status (completed, rejected, withdrawn, cancelled) is no longer inserted into this index —
 * an application's status is indexed (the review queue), so every status change writes a new entry into each of the
 * table's indexes whose predicate the new row version meets. A statement import completes up to a hundred thousand
 * applications at once; and a fund's finished applications, most of them in time, no longer fill an index of random
 * 64-character keys that every new application is inserted into.
 *
 * Built in the migration's transaction, which blocks writes to applications while it is built (seconds for a million
 * rows: only open ones are read into it); reads go on.
 */
export class OpenApplicationsPatientIndex1763700012000 implements MigrationInterface {
  name = 'OpenApplicationsPatientIndex1763700012000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX applications_open_patient_hash_idx ON applications (patient_national_id_hash)
       WHERE patient_national_id_hash IS NOT NULL AND status NOT IN ('rejected', 'withdrawn', 'cancelled', 'completed')`);
    await q.query(`DROP INDEX applications_patient_hash_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX applications_patient_hash_idx ON applications (patient_national_id_hash) WHERE patient_national_id_hash IS NOT NULL`);
    await q.query(`DROP INDEX applications_open_patient_hash_idx`);
  }
}
