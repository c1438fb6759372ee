import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A fingerprint of each data key the database's data was written with (checkDataKeys): a replica started with another
 * DATA_ENCRYPTION_KEY or DATA_HASH_KEY refuses to start, instead of failing every read of what the others wrote and
 * writing national ids and documents under a key the rest cannot open. An HMAC of a fixed text under the key: it
 * tells keys apart without giving anything of them away.
 */
export class DataKeyFingerprints1763700023900 implements MigrationInterface {
  name = 'DataKeyFingerprints1763700023900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE data_key_fingerprints (
        setting text PRIMARY KEY CHECK (setting IN ('DATA_ENCRYPTION_KEY', 'DATA_HASH_KEY')),
        fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE data_key_fingerprints`);
  }
}
