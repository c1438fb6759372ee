import { createHmac, hkdfSync } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { GENESIS_HASH } from 'src/audit/audit-hash';

/** Anchors checked per query. */
const BATCH = 5000;

export type AnchorRow = { id: string; eventId: string; eventHash: string; anchoredAt: Date; mac: string };

export type AnchorVerification = { ok: true; anchors: number; anchoredThrough: string | null } | { ok: false; anchors: number; firstBrokenId: string | null; reason: string };

/**
 * Signed checkpoints of the audit chain's head (table audit_anchors). The chain is sha256 over the events, which anyone
 * able to write the table can recompute after rewriting, cutting or inventing history; an anchor is an HMAC, under a key
 * derived from DATA_HASH_KEY (which the database never holds), of the head's id and hash, the time, and the previous
 * anchor's MAC. Rewriting history then breaks an anchor's event hash; cutting it, an anchor's event; forging or
 * removing an anchor in the middle, the MACs' chain; removing the latest anchors leaves events unanchored for longer
 * than the worker's schedule allows. What stays out of reach: events written after the latest anchor, until the next.
 */
export class AuditAnchors {
  private readonly key: Buffer;

  constructor(hashKeyBase64: string) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(hashKeyBase64.trim(), 'base64'), Buffer.alloc(0), 'sprout audit anchors v1', 32));
  }

  /** MAC of an anchor given the one before it (GENESIS_HASH for the first). */
  macOf(previousMac: string, anchor: Omit<AnchorRow, 'id' | 'mac'>): string {
    return createHmac('sha256', this.key)
      .update(`${previousMac}\n${anchor.eventId}\n${anchor.eventHash}\n${anchor.anchoredAt.toISOString()}`)
      .digest('hex');
  }

  /**
   * Anchors the chain's head as committed now; null when there are no events yet. Under a transaction lock of its own,
   * so that two workers at once do not both build on the same previous anchor.
   */
  async anchor(tx: EntityManager): Promise<AnchorRow | null> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('sprout:audit-anchors'))`);
    const [head] = (await tx.query(`SELECT id::text, hash FROM audit_events ORDER BY id DESC LIMIT 1`)) as { id: string; hash: string }[];
    if (!head) return null;
    const [previous] = (await tx.query(`SELECT mac FROM audit_anchors ORDER BY id DESC LIMIT 1`)) as { mac: string }[];
    // From JavaScript, not now(): what is signed must read back exactly (a Date holds milliseconds, timestamptz micro).
    const anchoredAt = new Date();
    const anchor = { eventId: head.id, eventHash: head.hash, anchoredAt };
    const mac = this.macOf(previous?.mac ?? GENESIS_HASH, anchor);
    const [row] = (await tx.query(
      `INSERT INTO audit_anchors (event_id, event_hash, anchored_at, mac) VALUES ($1, $2, $3, $4) RETURNING id::text`,
      [head.id, head.hash, anchoredAt, mac],
    )) as { id: string }[];
    return { id: row.id, ...anchor, mac };
  }

  /**
   * Every anchor's MAC in order, and that the event it names is still there with the hash it had; then that no event
   * older than `staleAfterMs` is left unanchored.
   */
  async verify(manager: EntityManager, staleAfterMs: number, now = new Date()): Promise<AnchorVerification> {
    let previousMac = GENESIS_HASH;
    let anchoredThrough: string | null = null;
    let latestAnchoredAt: Date | null = null;
    let anchors = 0;
    for (let afterId = '0'; ; ) {
      const rows = (await manager.query(
        `SELECT a.id::text, a.event_id::text, a.event_hash, a.anchored_at, a.mac, e.hash AS actual
           FROM audit_anchors a LEFT JOIN audit_events e ON e.id = a.event_id
          WHERE a.id > $1 ORDER BY a.id LIMIT ${BATCH}`,
        [afterId],
      )) as { id: string; event_id: string; event_hash: string; anchored_at: Date; mac: string; actual: string | null }[];
      if (!rows.length) break;
      for (const row of rows) {
        const expected = this.macOf(previousMac, { eventId: row.event_id, eventHash: row.event_hash, anchoredAt: row.anchored_at });
        if (expected !== row.mac) {
          return { ok: false, anchors, firstBrokenId: row.event_id, reason: `anchor ${row.id} does not carry the fund's signature: forged, altered, or an anchor before it removed` };
        }
        if (row.actual === null) return { ok: false, anchors, firstBrokenId: row.event_id, reason: `event ${row.event_id}, anchored at ${row.anchored_at.toISOString()}, is gone: the trail was cut` };
        if (row.actual !== row.event_hash) return { ok: false, anchors, firstBrokenId: row.event_id, reason: `event ${row.event_id} is not as anchored at ${row.anchored_at.toISOString()}: the trail was rewritten` };
        previousMac = row.mac;
        anchoredThrough = row.event_id;
        latestAnchoredAt = row.anchored_at;
        anchors++;
        afterId = row.id;
      }
    }
    const [unanchored] = (await manager.query(`SELECT id::text, occurred_at FROM audit_events WHERE id > $1 ORDER BY id LIMIT 1`, [anchoredThrough ?? '0'])) as {
      id: string;
      occurred_at: Date;
    }[];
    // Unanchored since the latest anchor's time, which its MAC covers; with no anchor at all, since the first event's
    // own time (which whoever could remove every anchor could also have rewritten: the log's copies are the check then).
    const since = unanchored && (latestAnchoredAt ?? unanchored.occurred_at);
    if (unanchored && since && now.getTime() - since.getTime() > staleAfterMs) {
      return {
        ok: false,
        anchors,
        firstBrokenId: unanchored.id,
        reason: `events after the anchor of ${since.toISOString()} are not anchored: no worker has anchored the trail since, or anchors were removed`,
      };
    }
    return { ok: true, anchors, anchoredThrough };
  }
}
