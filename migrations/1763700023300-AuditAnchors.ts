import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed checkpoints of the audit chain's head (AuditAnchorService). The chain alone is a plain sha256 chain that
 * anyone who can write the table can recompute after rewriting an event; an anchor carries an HMAC under a key the
 * database does not hold, so a rewritten, cut or forged history no longer matches the anchors, and removing the anchors
 * too leaves events unanchored for longer than the schedule allows, which verify reports. Append-only, as the trail is.
 */
export class AuditAnchors1763700023300 implements MigrationInterface {
  name = 'AuditAnchors1763700023300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_anchors (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id bigint NOT NULL,
        event_hash text NOT NULL CHECK (event_hash ~ '^[0-9a-f]{64}$'),
        anchored_at timestamptz NOT NULL,
        mac text NOT NULL CHECK (mac ~ '^[0-9a-f]{64}$')
      )`);
    await q.query(`CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
    await q.query(`CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors FOR EACH STATEMENT EXECUTE FUNCTION forbid_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_anchors`);
  }
}
