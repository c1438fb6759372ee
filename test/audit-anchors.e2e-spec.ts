import { randomUUID } from 'node:crypto';
import { AuditAnchors } from 'src/audit/audit-anchors';
import { AuditEvent } from 'src/audit/audit-event.entity';
import { chainHash, GENESIS_HASH } from 'src/audit/audit-hash';
import { AuditService } from 'src/audit/audit.service';
import { signedInUser } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';
import { waitUntil } from 'test/support/wait-until';

const API = '/api/v1';

/**
 * The audit chain against someone who can write its tables (the database's owner, a leaked superuser password): a
 * rewrite that recomputes every hash after it passes the chain's own check, and only the signed anchors catch it.
 */
describe('Audit anchors (e2e)', () => {
  let t: TestApp;
  let audit: AuditService;
  beforeAll(async () => {
    t = await startTestApp();
    audit = t.app.get(AuditService);
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  /** As a table owner would: triggers off, then SQL. */
  const asOwner = (sql: string, params: unknown[] = []) =>
    t.dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL session_replication_role = replica`);
      return tx.query(sql, params);
    });

  /** Rewrites one event's summary and recomputes every hash from it on, so that the chain alone verifies. */
  async function rewriteAndRechain(eventId: string, summary: Record<string, unknown>): Promise<void> {
    await asOwner(`UPDATE audit_events SET summary = $2 WHERE id = $1`, [eventId, JSON.stringify(summary)]);
    const events = await t.dataSource.getRepository(AuditEvent).createQueryBuilder('e').orderBy('e.id', 'ASC').getMany();
    let prev = GENESIS_HASH;
    for (const e of events) {
      const hash = chainHash(prev, {
        occurredAt: e.occurredAt.toISOString(),
        actorId: e.actorId,
        actorRole: e.actorRole,
        action: e.action,
        objectType: e.objectType,
        objectId: e.objectId,
        summary: e.summary,
        requestId: e.requestId,
      });
      await asOwner(`UPDATE audit_events SET prev_hash = $2, hash = $3 WHERE id = $1`, [e.id, prev, hash]);
      prev = hash;
    }
  }

  async function someEvents(n: number): Promise<string[]> {
    for (let i = 0; i < n; i++) {
      await t.dataSource.transaction((tx) => audit.record(tx, { actor: null, action: 'test.event', objectType: 'test', objectId: randomUUID(), summary: { n: i } }));
    }
    return ((await t.dataSource.query(`SELECT id::text FROM audit_events ORDER BY id`)) as { id: string }[]).map((r) => r.id);
  }

  it('signs the head; verify checks the signatures and reports what they cover', async () => {
    const ids = await someEvents(3);
    const anchored = await audit.anchor();
    expect(anchored).toMatchObject({ eventId: ids[2] });
    const head = (await someEvents(2)).at(-1);
    await audit.anchor();
    const admin = await signedInUser(t, 'admin'); // its creation is an event after the last anchor: covered by the next
    const res = await t.http.get(`${API}/audit/verify`).set(admin.auth).expect(200);
    expect(res.body).toMatchObject({ ok: true, firstBrokenId: null, anchors: 2, anchoredThrough: head });
  });

  it('catches a rewrite that recomputed the chain, which the chain alone passes', async () => {
    const ids = await someEvents(4);
    await audit.anchor();
    await rewriteAndRechain(ids[1], { n: 'rewritten' });
    const verified = await audit.verify();
    expect(verified).toMatchObject({ ok: false, firstBrokenId: ids[3], reason: expect.stringContaining('the trail was rewritten') });
    // Without the anchors it would have passed: the chain was recomputed.
    await asOwner(`TRUNCATE audit_anchors`);
    expect((await audit.verify()).ok).toBe(true);
    await asOwner(`TRUNCATE audit_events`); // leave nothing broken for the next test's check
  });

  it('catches a trail cut back past an anchor, a forged anchor, and anchors removed from the end', async () => {
    const ids = await someEvents(3);
    const anchors = new AuditAnchors(t.config.env.DATA_HASH_KEY);
    await audit.anchor();

    await asOwner(`DELETE FROM audit_events WHERE id = $1`, [ids[2]]);
    expect(await audit.verify()).toMatchObject({ ok: false, firstBrokenId: ids[2], reason: expect.stringContaining('the trail was cut') });
    await asOwner(`TRUNCATE audit_events, audit_anchors`);

    // An anchor signed with a key that is not the fund's.
    const [id] = await someEvents(1);
    const [{ hash }] = await t.dataSource.query(`SELECT hash FROM audit_events WHERE id = $1`, [id]);
    const forger = new AuditAnchors(Buffer.alloc(32, 1).toString('base64'));
    const anchoredAt = new Date();
    const mac = forger.macOf(GENESIS_HASH, { eventId: id, eventHash: hash, anchoredAt });
    await t.dataSource.query(`INSERT INTO audit_anchors (event_id, event_hash, anchored_at, mac) VALUES ($1, $2, $3, $4)`, [id, hash, anchoredAt, mac]);
    expect(await audit.verify()).toMatchObject({ ok: false, reason: expect.stringContaining("does not carry the fund's signature") });
    await asOwner(`TRUNCATE audit_anchors`);

    // Events left unanchored longer than the schedule allows: the worker stopped, or the latest anchors were removed.
    await audit.anchor();
    await someEvents(1);
    const hourAndHalf = 90 * 60_000;
    expect(await anchors.verify(t.dataSource.manager, hourAndHalf)).toMatchObject({ ok: true, anchors: 1 });
    const later = new Date(Date.now() + 2 * hourAndHalf);
    expect(await anchors.verify(t.dataSource.manager, hourAndHalf, later)).toMatchObject({ ok: false, reason: expect.stringContaining('are not anchored') });
  });

  it('is anchored by the worker soon after it starts', async () => {
    await t.close();
    t = await startTestApp();
    audit = t.app.get(AuditService);
    await someEvents(1);
    await waitUntil(async () => (await t.dataSource.query(`SELECT 1 FROM audit_anchors`)).length > 0, 15_000);
    expect((await audit.verify()).anchors).toBe(1);
  });
});
