import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first occurrence of every bank entry fingerprint per hospital. An import asks "seen before?" with
 * INSERT … ON CONFLICT on this primary key: always one index probe per entry, whatever the planner believes
 * about statement_entries (whose statistics know nothing of the rows the running import has just written, and
 * which led it to scan them all for every batch). Derived from statement_entries, which are never deleted, so
 * without foreign keys: their per-row checks were a third of the cost of an import batch.
 */
export class StatementFingerprints1763700005200 implements MigrationInterface {
  name = 'StatementFingerprints1763700005200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE statement_fingerprints (
        hospital_id uuid NOT NULL,
        fingerprint text NOT NULL CHECK (fingerprint ~ '^(id|row):[0-9a-f]{64}$'),
        statement_id uuid NOT NULL,
        first_position integer NOT NULL CHECK (first_position >= 0),
        PRIMARY KEY (hospital_id, fingerprint)
      )`);
    await q.query(`
      INSERT INTO statement_fingerprints (hospital_id, fingerprint, statement_id, first_position)
      SELECT DISTINCT ON (e.hospital_id, e.fingerprint) e.hospital_id, e.fingerprint, e.statement_id, e.position
        FROM statement_entries e JOIN bank_statements s ON s.id = e.statement_id
       WHERE e.fingerprint IS NOT NULL
       ORDER BY e.hospital_id, e.fingerprint, s.created_at, e.position`);
    await q.query(`DROP INDEX IF EXISTS statement_entries_fingerprint_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS statement_entries_fingerprint_idx ON statement_entries (hospital_id, fingerprint) WHERE fingerprint IS NOT NULL`);
    await q.query(`DROP TABLE IF EXISTS statement_fingerprints`);
  }
}
