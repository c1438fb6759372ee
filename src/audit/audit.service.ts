import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuthUser } from 'src/common/auth/roles';
import { renumber, SqlPart } from 'src/database/statement-parts';
import { currentRequestId } from 'src/common/logging/request-context';
import { AuditEvent } from 'src/audit/audit-event.entity';
import { AnchorRow, AuditAnchors } from 'src/audit/audit-anchors';
import { AppConfig } from 'src/config/app-config';
import { AuditContent, canonicalJson, chainHash, GENESIS_HASH } from 'src/audit/audit-hash';
import { canonicalSql, shiftParams, slot } from 'src/audit/bulk-audit';

export type AuditVerification = {
  ok: boolean;
  checked: number;
  firstBrokenId: string | null;
  reason: string | null;
  /** Signed anchors of the chain's head checked, and the last event they cover. */
  anchors: number;
  anchoredThrough: string | null;
};

export type AuditRecord = {
  actor: Pick<AuthUser, 'id' | 'role'> | null;
  action: string;
  objectType: string;
  objectId?: string | null;
  /** A before/after summary: statuses, amounts, field names — never national ids, diagnoses or tokens. */
  summary?: Record<string, unknown>;
};

@Injectable()
export class AuditService {
  private readonly anchors: AuditAnchors;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {
    this.anchors = new AuditAnchors(config.env.DATA_HASH_KEY);
  }

  /**
   * Appends one event inside the caller's transaction. The event is linked into the hash chain when the transaction
   * commits, by the database (trigger audit_chain_pending, migration AuditChainAtCommit): under the chain's lock it
   * reads the last hash and stores sha256(prevHash + "\n" + canonicalJson(content)) — what chainHash() computes and
   * verify() checks. No lock is taken here, so an audited write no longer queues behind every other one for its
   * whole remaining transaction; a rolled-back transaction chains nothing.
   */
  async record(tx: EntityManager, record: AuditRecord): Promise<void> {
    const { sql, params } = this.pendingOf([record]);
    await tx.query(sql, params);
  }

  /**
   * What record() does, as a statement for a caller that writes it together with its other rows (writeTogether).
   * Several events are chained in the order given.
   */
  pendingOf(records: AuditRecord[]): SqlPart {
    const values = records.map((_, i) => `(${renumber(EVENT_VALUES, i * EVENT_WIDTH)})`);
    return { sql: `INSERT INTO audit_pending (${EVENT_COLUMNS}) VALUES ${values.join(', ')}`, params: records.flatMap((r) => this.rowOf(r)) };
  }

  /**
   * Appends many events at once, in order: each part is one event (an AuditRecord) or the rows of a SELECT yielding
   * (occurred_at, actor_id, actor_role, action, object_type, object_id, summary, request_id, canonical), `canonical`
   * being canonicalJson() of the row's content. For writers of thousands of events in one transaction (a bank
   * statement import): through audit_pending, each event costs a trigger call at COMMIT (0.1–0.2 ms under load, all
   * of it under the chain's lock, and COMMIT is subject to statement_timeout). Here the events are chained right away,
   * by the same formula as the trigger (sha256(prev || '\n' || canonical)), in statements of CHAIN_CHUNK events; the
   * chain's lock is taken now and held until the transaction ends, so call this last. Events this transaction put in
   * audit_pending before are chained at COMMIT, after these.
   */
  async recordMany(tx: EntityManager, parts: ({ select: string; params: unknown[] } | AuditRecord)[]): Promise<number> {
    await tx.query(
      `CREATE TEMP TABLE IF NOT EXISTS audit_bulk (seq bigserial PRIMARY KEY, occurred_at timestamptz NOT NULL, actor_id uuid, actor_role text,
         action text NOT NULL, object_type text NOT NULL, object_id text, summary jsonb NOT NULL, request_id text, canonical text NOT NULL) ON COMMIT DROP`,
    );
    for (const part of parts) {
      if ('select' in part) await tx.query(`INSERT INTO pg_temp.audit_bulk (${EVENT_COLUMNS}) ${part.select}`, part.params);
      else await tx.query(`INSERT INTO pg_temp.audit_bulk (${EVENT_COLUMNS}) VALUES (${EVENT_VALUES})`, this.rowOf(part));
    }
    const [{ n, first, last }] = (await tx.query(
      `SELECT count(*)::int AS n, min(seq)::text AS first, max(seq)::text AS last FROM pg_temp.audit_bulk`,
    )) as { n: number; first: string | null; last: string | null }[];
    if (first !== null && last !== null) {
      for (let from = BigInt(first); from <= BigInt(last); from += BigInt(CHAIN_CHUNK)) {
        await tx.query(chainBulk(from, from + BigInt(CHAIN_CHUNK) - 1n));
      }
    }
    // Chained: a later recordMany of the same transaction starts from an empty table.
    await tx.query(`TRUNCATE pg_temp.audit_bulk`);
    return n;
  }

  /**
   * Like pendingOf, for events with summary values known only inside the statement: `slot(expr)` as a top-level
   * summary value becomes the JSON of `expr`, evaluated over `source` (a FROM item with one row, e.g. the RETURNING
   * rows of an earlier part: `w0`). `expr` must give text, such as `w0.id::text`, so that PostgreSQL writes it into the
   * canonical JSON as canonicalJson() would (canonicalSql). Events are chained in the order given.
   */
  pendingFrom(source: string, records: AuditRecord[]): SqlPart {
    const params: unknown[] = [];
    const rows = records.map((record, n) => {
      const content = this.contentOf(record);
      const slots = Object.values(content.summary).filter((v): v is string => typeof v === 'string' && v.startsWith(slot('')));
      const canonical = canonicalSql(content, Object.fromEntries(slots.map((s) => [s, s.slice(slot('').length)])));
      let summary = `${push(params, JSON.stringify(content.summary))}::jsonb`;
      for (const [key, value] of Object.entries(content.summary)) {
        if (slots.includes(value as string)) summary = `jsonb_set(${summary}, ${push(params, `{${key}}`)}::text[], to_jsonb(${(value as string).slice(slot('').length)}))`;
      }
      const canonicalExpr = shiftParams(canonical.sql, params.length);
      params.push(...canonical.params);
      const fixed = [content.occurredAt, content.actorId, content.actorRole, content.action, content.objectType, content.objectId].map((v) => push(params, v));
      return `(${n}, ${fixed[0]}::timestamptz, ${fixed[1]}::uuid, ${fixed[2]}::text, ${fixed[3]}::text, ${fixed[4]}::text, ${fixed[5]}::text,
               ${summary}, ${push(params, content.requestId)}::text, ${canonicalExpr})`;
    });
    return {
      sql: `INSERT INTO audit_pending (${EVENT_COLUMNS})
            SELECT e.occurred_at, e.actor_id, e.actor_role, e.action, e.object_type, e.object_id, e.summary, e.request_id, e.canonical
              FROM ${source} CROSS JOIN LATERAL (VALUES ${rows.join(', ')}) AS e(n, ${EVENT_COLUMNS})
             ORDER BY e.n`,
      params,
    };
  }

  /**
   * Recomputes the whole chain and names the first row whose content or link does not hold; then checks the signed
   * anchors of its head (AuditAnchors), which a rewrite that recomputed the chain does not survive.
   */
  async verify(options: { recentAnchors?: boolean } = {}): Promise<AuditVerification> {
    const chain = await this.verifyChain();
    // recentAnchors false: for tests, whose events carry times of their choosing and whose anchors a reset removes.
    const staleAfterMs = options.recentAnchors === false ? Number.POSITIVE_INFINITY : (2 * this.config.env.AUDIT_ANCHOR_MINUTES + 15) * 60_000;
    const anchors = await this.anchors.verify(this.dataSource.manager, staleAfterMs);
    if (!chain.ok) return { ...chain, anchors: anchors.anchors, anchoredThrough: null };
    if (!anchors.ok) return { ok: false, checked: chain.checked, firstBrokenId: anchors.firstBrokenId, reason: anchors.reason, anchors: anchors.anchors, anchoredThrough: null };
    return { ...chain, anchors: anchors.anchors, anchoredThrough: anchors.anchoredThrough };
  }

  /** Signs the chain's head as committed now (the worker's AuditAnchorScheduler). */
  anchor(): Promise<AnchorRow | null> {
    return this.dataSource.transaction((tx) => this.anchors.anchor(tx));
  }

  private async verifyChain(): Promise<{ ok: boolean; checked: number; firstBrokenId: string | null; reason: string | null }> {
    let prevHash = GENESIS_HASH;
    let lastId = '0';
    let checked = 0;
    for (;;) {
      const rows = await this.dataSource.getRepository(AuditEvent).createQueryBuilder('e')
        .where('e.id > :lastId', { lastId }).orderBy('e.id', 'ASC').limit(5000).getMany();
      if (!rows.length) return { ok: true, checked, firstBrokenId: null, reason: null };
      for (const row of rows) {
        if (row.prevHash !== prevHash) return { ok: false, checked, firstBrokenId: row.id, reason: 'link to the previous event is broken' };
        const expected = chainHash(prevHash, toContent(row));
        if (expected !== row.hash) return { ok: false, checked, firstBrokenId: row.id, reason: 'content does not match its hash' };
        prevHash = row.hash;
        lastId = row.id;
        checked++;
      }
    }
  }

  /** The values of EVENT_COLUMNS for one event happening now. */
  private rowOf(record: AuditRecord): unknown[] {
    const content = this.contentOf(record);
    return [
      content.occurredAt,
      content.actorId,
      content.actorRole,
      content.action,
      content.objectType,
      content.objectId,
      JSON.stringify(content.summary),
      content.requestId,
      canonicalJson(content),
    ];
  }

  private contentOf(record: AuditRecord): AuditContent {
    return {
      occurredAt: new Date().toISOString(),
      actorId: record.actor?.id ?? null,
      actorRole: record.actor?.role ?? null,
      action: record.action,
      objectType: record.objectType,
      objectId: record.objectId ?? null,
      // Hashed as it will be read back: a Date in a summary is stored as its ISO string but canonicalJson() saw an
      // object without keys, and undefined values are dropped by the store but were hashed as null — either broke
      // GET /audit/verify for good at that event.
      summary: JSON.parse(JSON.stringify(record.summary ?? {})) as Record<string, unknown>,
      requestId: currentRequestId(),
    };
  }

  async historyOf(objectType: string, objectId: string): Promise<AuditEvent[]> {
    return this.dataSource.getRepository(AuditEvent).find({ where: { objectType, objectId }, order: { id: 'ASC' } });
  }
}

/** An event as audit_pending and recordMany's staging table hold it: its content and canonicalJson() of it. */
const EVENT_COLUMNS = 'occurred_at, actor_id, actor_role, action, object_type, object_id, summary, request_id, canonical';
const EVENT_VALUES = '$1, $2, $3, $4, $5, $6, $7, $8, $9';
const EVENT_WIDTH = 9;

/** Events chained per statement by recordMany (keeps each statement far below statement_timeout). */
const CHAIN_CHUNK = 20_000;

/**
 * The staged events with seq in [from, to], chained under the chain's lock exactly as audit_chain_pending()
 * (migration AuditChainAtCommit) chains one: same lock key, same predecessor (the last event), same hash formula.
 * Chunks are ranges of seq read through the primary key: the staged rows are never deleted one chunk at a time
 * (that scanned and hashed the whole rest of the table for every chunk).
 */
function chainBulk(from: bigint, to: bigint): string {
  return `DO $chain$
DECLARE
  prev text;
  seqs bigint[] := '{}';
  prevs text[] := '{}';
  hashes text[] := '{}';
  r record;
BEGIN
  -- The ledger refuses to queue a fund movement after this (FundCommitmentAtCommit): fund → chain is the lock order.
  PERFORM set_config('sprout.audit_chain_locked', 'on', true);
  PERFORM pg_advisory_xact_lock(727002);
  SELECT hash INTO prev FROM audit_events ORDER BY id DESC LIMIT 1;
  prev := coalesce(prev, repeat('0', 64));
  FOR r IN SELECT seq, canonical FROM pg_temp.audit_bulk WHERE seq BETWEEN ${from} AND ${to} ORDER BY seq LOOP
    seqs := array_append(seqs, r.seq);
    prevs := array_append(prevs, prev);
    prev := encode(sha256(convert_to(prev || E'\\n' || r.canonical, 'UTF8')), 'hex');
    hashes := array_append(hashes, prev);
  END LOOP;
  INSERT INTO audit_events (occurred_at, actor_id, actor_role, action, object_type, object_id, summary, request_id, prev_hash, hash)
  SELECT b.occurred_at, b.actor_id, b.actor_role, b.action, b.object_type, b.object_id, b.summary, b.request_id, h.prev, h.hash
    FROM pg_temp.audit_bulk b JOIN unnest(seqs, prevs, hashes) AS h(seq, prev, hash) ON h.seq = b.seq
   WHERE b.seq BETWEEN ${from} AND ${to}
   ORDER BY b.seq;
END $chain$`;
}

/** Appends `value` to `params`; its placeholder. */
function push(params: unknown[], value: unknown): string {
  params.push(value);
  return `$${params.length}`;
}

function toContent(row: AuditEvent): AuditContent {
  return {
    occurredAt: row.occurredAt.toISOString(),
    actorId: row.actorId,
    actorRole: row.actorRole,
    action: row.action,
    objectType: row.objectType,
    objectId: row.objectId,
    summary: row.summary,
    requestId: row.requestId,
  };
}
