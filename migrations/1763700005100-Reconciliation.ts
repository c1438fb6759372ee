import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Imported bank statements of hospitals and their entries, with what matching decided for each.
 *  - A file is imported once per hospital (sha256 of its bytes); a second upload is a 409.
 *  - A disbursement is reconciled by at most one entry: the partial unique index on matched entries.
 *  - `fingerprint` identifies a bank entry across statements (bank reference or end-to-end id, amount, date;
 *    the whole row for files without bank references), so an entry seen again is a duplicate, never a second match.
 *  - The statement's counters always add up to its entry count.
 */
export class Reconciliation1763700005100 implements MigrationInterface {
  name = 'Reconciliation1763700005100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bank_statements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        hospital_id uuid NOT NULL REFERENCES hospitals(id),
        format text NOT NULL CHECK (format IN ('camt.053','csv')),
        sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        file_name text CHECK (length(file_name) <= 255),
        size_bytes bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
        statement_ids text[] NOT NULL DEFAULT '{}',
        account text,
        entries integer NOT NULL DEFAULT 0 CHECK (entries >= 0),
        matched integer NOT NULL DEFAULT 0 CHECK (matched >= 0),
        unmatched integer NOT NULL DEFAULT 0 CHECK (unmatched >= 0),
        mismatched integer NOT NULL DEFAULT 0 CHECK (mismatched >= 0),
        duplicates integer NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
        ignored integer NOT NULL DEFAULT 0 CHECK (ignored >= 0),
        imported_by uuid NOT NULL REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT bank_statements_counts_add_up CHECK (entries = matched + unmatched + mismatched + duplicates + ignored)
      )`);
    await q.query(`CREATE UNIQUE INDEX bank_statements_content_key ON bank_statements (hospital_id, sha256)`);
    await q.query(`CREATE INDEX bank_statements_hospital_idx ON bank_statements (hospital_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX bank_statements_created_idx ON bank_statements (created_at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE statement_entries (
        id uuid PRIMARY KEY,
        statement_id uuid NOT NULL REFERENCES bank_statements(id),
        hospital_id uuid NOT NULL REFERENCES hospitals(id),
        position integer NOT NULL CHECK (position >= 0),
        location text NOT NULL,
        booking_date date NOT NULL,
        value_date date,
        amount bigint NOT NULL CHECK (amount >= 0),
        credit_debit text NOT NULL CHECK (credit_debit IN ('CRDT','DBIT')),
        currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        entry_status text,
        reversal boolean NOT NULL DEFAULT false,
        account_servicer_reference text,
        end_to_end_id text,
        instruction_id text,
        remittance text NOT NULL,
        structured_references jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(structured_references) = 'array'),
        counterparty text,
        additional_info text,
        reference text,
        fingerprint text,
        status text NOT NULL CHECK (status IN ('matched','mismatched','unmatched','duplicate','ignored')),
        reason text,
        disbursement_id uuid REFERENCES disbursements(id),
        match_kind text CHECK (match_kind IN ('auto','manual')),
        matched_by uuid REFERENCES users(id),
        matched_at timestamptz,
        CONSTRAINT statement_entries_position_key UNIQUE (statement_id, position),
        CONSTRAINT statement_entries_match_complete CHECK (
          (status = 'matched') = (match_kind IS NOT NULL) AND (match_kind IS NULL) = (matched_at IS NULL)
          AND (status <> 'matched' OR disbursement_id IS NOT NULL)
          AND (disbursement_id IS NULL OR status IN ('matched','mismatched','duplicate')))
      )`);
    // One entry reconciles a disbursement, ever (until it is unmatched).
    await q.query(`CREATE UNIQUE INDEX statement_entries_one_match_key ON statement_entries (disbursement_id) WHERE status = 'matched'`);
    await q.query(`CREATE INDEX statement_entries_fingerprint_idx ON statement_entries (hospital_id, fingerprint) WHERE fingerprint IS NOT NULL`);
    await q.query(`CREATE INDEX statement_entries_statement_idx ON statement_entries (statement_id, status, position)`);
    await q.query(`CREATE INDEX statement_entries_booking_idx ON statement_entries (hospital_id, booking_date)`);
    await q.query(`CREATE INDEX statement_entries_disbursement_idx ON statement_entries (disbursement_id) WHERE disbursement_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS statement_entries`);
    await q.query(`DROP TABLE IF EXISTS bank_statements`);
  }
}
