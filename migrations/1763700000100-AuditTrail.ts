import { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditTrail1763700000100 implements MigrationInterface {
  name = 'AuditTrail1763700000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        actor_id uuid,
        actor_role text,
        action text NOT NULL,
        object_type text NOT NULL,
        object_id text,
        summary jsonb NOT NULL DEFAULT '{}'::jsonb,
        request_id text,
        prev_hash text NOT NULL,
        hash text NOT NULL
      )`);
    await q.query(`CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_id, id)`);
    // Append-only for everyone, the application's role included: history is evidence.
    await q.query(`
      CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
    await q.query(`REVOKE UPDATE, DELETE ON audit_events FROM PUBLIC`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION forbid_change()`);
  }
}
