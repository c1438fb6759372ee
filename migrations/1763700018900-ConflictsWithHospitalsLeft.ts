import { MigrationInterface } from 'typeorm';

type Queryable = { query(sql: string, params?: unknown[]): Promise<unknown> };

/**
 * A hospital finance user given another role or hospital keeps a conflict of interest with the hospital they leave
 * (UsersService.update): made reviewer or admin, they could otherwise decide its cases, as the review check only
 * sees the hospital a user holds now. Those who left before this release are in the audit trail (user.updated, whose
 * summary holds the hospital before and after): each gets the conflict now, unless an admin removed it after they
 * left, audited as the service audits one (no actor: the upgrade) and chained at COMMIT (AuditChainAtCommit).
 */
export class ConflictsWithHospitalsLeft1763700018900 implements MigrationInterface {
  name = 'ConflictsWithHospitalsLeft1763700018900';

  async up(q: Queryable): Promise<void> {
    await ConflictsWithHospitalsLeft1763700018900.recordHospitalsLeft(q);
  }

  /** The schema is unchanged; the conflicts stay (an admin removes one with DELETE /users/:id/conflicts/:id, audited). */
  async down(): Promise<void> {}

  /** Records, and audits, the conflicts of hospitals left before this release; returns how many it added. */
  static async recordHospitalsLeft(q: Queryable): Promise<number> {
    const rows = (await q.query(`
      INSERT INTO reviewer_conflicts (reviewer_id, hospital_id)
      SELECT DISTINCT u.id, h.id
        FROM audit_events e
        JOIN users u ON u.id::text = e.object_id
        JOIN hospitals h ON h.id::text = e.summary #>> '{before,hospitalId}'
       WHERE e.action = 'user.updated' AND e.object_type = 'user'
         AND (e.summary #>> '{after,hospitalId}') IS DISTINCT FROM h.id::text
         AND NOT EXISTS (SELECT 1 FROM audit_events r
                          WHERE r.action = 'reviewer_conflict.removed' AND r.object_type = 'user' AND r.object_id = e.object_id
                            AND r.summary ->> 'hospitalId' = h.id::text AND r.id > e.id)
      ON CONFLICT (reviewer_id, hospital_id) WHERE hospital_id IS NOT NULL DO NOTHING
      RETURNING id, reviewer_id, hospital_id`)) as { id: string; reviewer_id: string; hospital_id: string }[];
    rows.sort((a, b) => `${a.reviewer_id}${a.hospital_id}`.localeCompare(`${b.reviewer_id}${b.hospital_id}`));
    for (const row of rows) {
      const content = {
        occurredAt: new Date().toISOString(),
        actorId: null,
        actorRole: null,
        action: 'reviewer_conflict.added',
        objectType: 'user',
        objectId: row.reviewer_id,
        summary: { conflictId: row.id, hospitalId: row.hospital_id, reason: 'left-hospital' },
        requestId: null,
      };
      await q.query(
        `INSERT INTO audit_pending (occurred_at, actor_id, actor_role, action, object_type, object_id, summary, request_id, canonical)
         VALUES ($1, NULL, NULL, $2, $3, $4, $5::jsonb, NULL, $6)`,
        [content.occurredAt, content.action, content.objectType, content.objectId, JSON.stringify(content.summary), canonical(content)],
      );
    }
    return rows.length;
  }
}

/** canonicalJson of src/audit/audit-hash (keys sorted at every level), which the chain hashes; migrations import nothing from src. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
