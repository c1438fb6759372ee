import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The review workflow's records:
 *  - `decisions`: every approval and rejection (who, amount, comment or reason, when). Append-only. The four-eyes
 *    rule is enforced here too: a second approval needs a first one by ANOTHER reviewer for the SAME amount, and an
 *    application gets at most one final decision.
 *  - `info_requests`: each request for more information, with keyed hashes of the application's fields at that
 *    moment (never the values), so the reviewer can be shown which fields the family changed. Append-only.
 *  - `reviewer_conflicts`: a reviewer linked to an applicant (family account) or working for a hospital may not
 *    decide that family's or that hospital's cases.
 */
export class Review1763700004000 implements MigrationInterface {
  name = 'Review1763700004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE decisions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        application_id uuid NOT NULL REFERENCES applications(id),
        kind text NOT NULL CHECK (kind IN ('approval','first_approval','second_approval','rejection')),
        reviewer_id uuid NOT NULL REFERENCES users(id),
        reviewer_role text NOT NULL,
        from_status text NOT NULL,
        to_status text NOT NULL,
        amount bigint CHECK (amount BETWEEN 1 AND 1000000000000),
        comment text CHECK (length(comment) BETWEEN 1 AND 2000),
        reason text CHECK (length(reason) BETWEEN 1 AND 2000),
        decided_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT decisions_amount_on_approvals CHECK ((kind = 'rejection') = (amount IS NULL)),
        CONSTRAINT decisions_reason_on_rejections CHECK ((kind = 'rejection') = (reason IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX decisions_kind_key ON decisions (application_id, kind)`);
    await q.query(`CREATE UNIQUE INDEX decisions_final_key ON decisions (application_id) WHERE kind IN ('approval','second_approval','rejection')`);
    await q.query(`
      CREATE FUNCTION decisions_four_eyes() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        first_reviewer uuid;
        first_amount bigint;
      BEGIN
        IF NEW.kind = 'second_approval' THEN
          SELECT reviewer_id, amount INTO first_reviewer, first_amount
            FROM decisions WHERE application_id = NEW.application_id AND kind = 'first_approval';
          IF NOT FOUND OR first_reviewer = NEW.reviewer_id OR first_amount <> NEW.amount THEN
            RAISE EXCEPTION 'four-eyes rule: a second approval needs a first approval by another reviewer for the same amount'
              USING ERRCODE = 'check_violation', CONSTRAINT = 'decisions_four_eyes';
          END IF;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER decisions_four_eyes BEFORE INSERT ON decisions FOR EACH ROW EXECUTE FUNCTION decisions_four_eyes()`);

    await q.query(`
      CREATE TABLE info_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        application_id uuid NOT NULL REFERENCES applications(id),
        requested_by uuid NOT NULL REFERENCES users(id),
        message text NOT NULL CHECK (length(message) BETWEEN 1 AND 2000),
        field_hashes jsonb NOT NULL CHECK (jsonb_typeof(field_hashes) = 'object'),
        requested_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX info_requests_application_idx ON info_requests (application_id, requested_at, id)`);

    // Evidence: append-only for everyone (forbid_change() comes from the audit trail migration).
    for (const table of ['decisions', 'info_requests']) {
      await q.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
      await q.query(`REVOKE UPDATE, DELETE ON ${table} FROM PUBLIC`);
    }

    await q.query(`
      CREATE TABLE reviewer_conflicts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        reviewer_id uuid NOT NULL REFERENCES users(id),
        applicant_id uuid REFERENCES users(id),
        hospital_id uuid REFERENCES hospitals(id),
        created_by uuid REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT reviewer_conflicts_one_target CHECK ((applicant_id IS NULL) <> (hospital_id IS NULL)),
        CONSTRAINT reviewer_conflicts_not_self CHECK (applicant_id IS DISTINCT FROM reviewer_id)
      )`);
    await q.query(`CREATE UNIQUE INDEX reviewer_conflicts_applicant_key ON reviewer_conflicts (reviewer_id, applicant_id) WHERE applicant_id IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX reviewer_conflicts_hospital_key ON reviewer_conflicts (reviewer_id, hospital_id) WHERE hospital_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS reviewer_conflicts`);
    await q.query(`DROP TABLE IF EXISTS info_requests`);
    await q.query(`DROP TABLE IF EXISTS decisions`);
    await q.query(`DROP FUNCTION IF EXISTS decisions_four_eyes()`);
  }
}
