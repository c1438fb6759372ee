import { EntityManager } from 'typeorm';
import { AuditContent } from 'src/audit/audit-hash';
import { AuthUser } from 'src/common/auth/roles';
import { currentRequestId } from 'src/common/logging/request-context';
import { findTransition, mayTake, SYSTEM_ACTOR } from 'src/applications/application-status';
import { canonicalSql, shiftParams, slot, slotsOf } from 'src/audit/bulk-audit';
import { ENTRY_COLUMNS, PENDING_MATCHES } from 'src/reconciliation/statement-import-run';


/** The system transition the last reconciled tranche makes, from the transition table (GrantProgressService.completeIfSettled). */
const COMPLETE = (() => {
  const transition = findTransition('disbursing', 'complete');
  if (!transition || !mayTake(transition, SYSTEM_ACTOR)) throw new Error('the transition table has no system transition disbursing → complete');
  return transition;
})();

/** Rows per statement: each statement stays far below statement_timeout (30 s) and its joins within work_mem. */
const CHUNK = 20_000;
const APPS = 'pg_temp.statement_import_apps';
/** The applications still disbursing once settled, by ctid (completeSettled). */
const COMPLETING = 'pg_temp.statement_import_completing';
/** The applications completeSettled completed, with their new versions (for the audit events). */
const COMPLETED = 'pg_temp.statement_import_completed';

/**
 * Settles the automatic matches of one import in set-based statements of CHUNK rows (the per-application loop it
 * replaces made ~8 round trips per match). What it keeps from that loop:
 *  - locks: every application concerned, in id order across all chunks, before any of its tranches (the lock order
 *    of every money path, GrantProgressService); a tranche is then changed only if it is still paid, by the payment
 *    the entry was judged against, of this hospital and of the entry's amount — so an import and a person matching the same tranche cannot both win, and
 *    the unique index statement_entries_one_match_key stays the last word;
 *  - a match that no longer holds keeps its entry unmatched, with the tranche's status in the reason — or a duplicate
 *    of the tranche, when it was reconciled meanwhile (by a person matching it by hand);
 *  - disbursing → completed (per the transition table) for an application with nothing left to pay or reconcile;
 *  - the audit events, with the same actions and content: disbursement.reconciled per tranche and
 *    application.completed per application (AuditService.recordMany).
 */
export class StatementSettlement {
  private readonly occurredAt = new Date();

  constructor(
    private readonly tx: EntityManager,
    private readonly statementId: string,
    private readonly hospitalId: string,
    private readonly user: AuthUser,
  ) {}

  /** Locks the applications, changes the tranches and stores the pending matches as entries of the statement. */
  async settle(): Promise<void> {
    await this.tx.query(`CREATE INDEX ON ${PENDING_MATCHES} (position)`);
    await this.tx.query(`ANALYZE ${PENDING_MATCHES}`);
    await this.tx.query(
      `CREATE TEMP TABLE ${APPS.slice('pg_temp.'.length)} ON COMMIT DROP AS
       SELECT DISTINCT d.application_id AS id FROM disbursements d JOIN ${PENDING_MATCHES} p ON p.disbursement_id = d.id`,
    );
    await this.tx.query(`ALTER TABLE ${APPS} ADD PRIMARY KEY (id)`);
    await this.tx.query(`ANALYZE ${APPS}`);

    for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
      const [{ last }] = (await this.tx.query(
        `WITH chunk AS (SELECT id FROM ${APPS} WHERE id > $1 ORDER BY id LIMIT $2),
              locked AS (SELECT a.id FROM applications a WHERE a.id IN (SELECT id FROM chunk) ORDER BY a.id FOR UPDATE OF a)
         SELECT (SELECT count(*) FROM locked) AS n, (SELECT id FROM chunk ORDER BY id DESC LIMIT 1) AS last`,
        [after, CHUNK],
      )) as { last: string | null }[];
      if (!last) break;
      after = last;
    }

    const columns = ENTRY_COLUMNS.join(', ');
    for (let after = -1; ; ) {
      const [{ last }] = (await this.tx.query(
        `WITH chunk AS (SELECT * FROM ${PENDING_MATCHES} WHERE position > $4 ORDER BY position LIMIT $5),
              settled AS (
                UPDATE disbursements d SET status = 'reconciled', reconciled_at = $2, updated_at = $2, version = d.version + 1
                  FROM chunk p
                 -- The chunk's tranches through the primary key: joined on the id alone, the planner (which cannot
                 -- tell how many tranches a chunk names) hashed every paid tranche of the hospital once per chunk.
                 WHERE d.id = ANY (ARRAY(SELECT disbursement_id FROM chunk))
                   AND d.id = p.disbursement_id AND d.status = 'paid' AND d.amount = p.amount AND d.hospital_id = $1
                   -- Still the payment the entry was judged against: one returned and paid again meanwhile (its
                   -- credit may be the returned payment's) is a change during the import.
                   AND d.current_payment_id IS NOT DISTINCT FROM p.payment_id
                RETURNING d.id),
              stored AS (
                INSERT INTO statement_entries (${columns}, status, reason, disbursement_id, match_kind, matched_by, matched_at)
                SELECT ${ENTRY_COLUMNS.map((c) => `p.${c}`).join(', ')},
                       CASE WHEN p.settled_id IS NOT NULL THEN 'matched' WHEN p.now_status = 'reconciled' THEN 'duplicate' ELSE 'unmatched' END,
                       CASE WHEN p.settled_id IS NOT NULL THEN NULL
                            -- Reconciled by someone else meanwhile (a person matching it by hand): this entry repeats
                            -- that payment, as classifyEntry says of a tranche already reconciled.
                            WHEN p.now_status = 'reconciled' THEN 'the disbursement was reconciled during the import'
                            ELSE 'the disbursement changed during the import (now ' || coalesce(p.now_status, 'gone') || ')' END,
                       CASE WHEN p.settled_id IS NOT NULL THEN p.settled_id WHEN p.now_status = 'reconciled' THEN p.disbursement_id END,
                       CASE WHEN p.settled_id IS NOT NULL THEN 'auto' END,
                       CASE WHEN p.settled_id IS NOT NULL THEN $3::uuid END,
                       CASE WHEN p.settled_id IS NOT NULL THEN $2::timestamptz END
                  FROM (SELECT c.*, s.id AS settled_id,
                               -- The tranche's status now, looked up only for a match that no longer holds (a join
                               -- read the whole table once per chunk).
                               CASE WHEN s.id IS NULL THEN (SELECT d.status FROM disbursements d WHERE d.id = c.disbursement_id) END AS now_status
                          FROM chunk c LEFT JOIN settled s ON s.id = c.disbursement_id
                        -- Keeps this a subquery: pulled up, the look-up was copied into each CASE that names it, and
                        -- the copies cost ~0.5 s per chunk of 20,000 even unexecuted (EXPLAIN ANALYZE, bench copy).
                        OFFSET 0) p
                RETURNING 1)
         SELECT (SELECT count(*) FROM stored) AS n, (SELECT max(position) FROM chunk) AS last`,
        [this.hospitalId, this.occurredAt, this.user.id, after, CHUNK],
      )) as { last: number | null }[];
      if (last === null) break;
      after = last;
    }
  }

  /**
   * disbursing → completed for every application of a tranche this import tried to settle that now has nothing left
   * to pay or reconcile (at least one tranche reconciled, every other one reconciled or cancelled) — what
   * GrantProgressService.completeIfSettled did per application. The new versions are kept for the audit events.
   *
   * In heap order, not id order: a row's ctid is read once all of them are locked by this transaction (settle), so
   * no other transaction can move them before they are updated here, and each chunk then reaches its rows by TID
   * scan, page after page. In id order (random uuids) every chunk touched pages all over the hospital's part of the
   * table, so each page was read, dirtied and written back — and given a full-page image after every checkpoint —
   * up to once per row it holds (40,000 completions: 25.3 s and 652 MB of WAL in id order, 19.5 s and 462 MB in
   * heap order, loaded machine).
   */
  async completeSettled(): Promise<void> {
    await this.tx.query(
      `CREATE TEMP TABLE ${COMPLETING.slice('pg_temp.'.length)} ON COMMIT DROP AS
       SELECT a.ctid AS at, a.id FROM applications a WHERE a.id IN (SELECT id FROM ${APPS}) AND a.status = $1::text`,
      [COMPLETE.from],
    );
    await this.tx.query(`ALTER TABLE ${COMPLETING} ADD PRIMARY KEY (at)`);
    await this.tx.query(`CREATE TEMP TABLE ${COMPLETED.slice('pg_temp.'.length)} (id uuid NOT NULL, version int NOT NULL) ON COMMIT DROP`);
    for (let after = '(0,0)'; ; ) {
      const [{ last }] = (await this.tx.query(
        `WITH chunk AS (SELECT at, id FROM ${COMPLETING} WHERE at > $1::tid ORDER BY at LIMIT $2),
              completed AS (
                UPDATE applications a SET status = $4::text, version = a.version + 1, updated_at = $5::timestamptz
                 WHERE a.ctid = ANY (ARRAY(SELECT at FROM chunk))
                   AND a.status = $3::text
                   -- One probe of the application's tranches (index on application_id): as a join the planner hashed
                   -- every reconciled tranche of every hospital once per chunk.
                   AND (SELECT bool_or(t.status = 'reconciled') AND bool_and(t.status IN ('reconciled', 'cancelled'))
                          FROM disbursements t WHERE t.application_id = a.id)
                RETURNING a.id, a.version),
              -- Appended, not updated in APPS: an UPDATE there probed APPS's key and rewrote its row for each of them.
              kept AS (INSERT INTO ${COMPLETED} (id, version) SELECT id, version FROM completed RETURNING 1)
         SELECT (SELECT count(*) FROM kept) AS n, (SELECT at FROM chunk ORDER BY at DESC LIMIT 1)::text AS last`,
        [after, CHUNK, COMPLETE.from, COMPLETE.to, this.occurredAt],
      )) as { last: string | null }[];
      if (!last) break;
      after = last;
    }
  }

  /**
   * The audit events of the settlement, for AuditService.recordMany: disbursement.reconciled per tranche this import
   * reconciled (file order), then application.completed per application it completed (id order).
   */
  auditParts(): { select: string; params: unknown[] }[] {
    const reconciled = this.content('disbursement.reconciled', 'disbursement', slot('e.disbursement_id'), {
      reference: slot('e.reference'),
      statementId: this.statementId,
      entryId: slot('e.id'),
      matchKind: 'auto',
    });
    const r = canonicalSql(reconciled, slotsOf('e.disbursement_id', 'e.reference', 'e.id'));
    const completed = this.content(`application.${COMPLETE.to}`, 'application', slot('c.id'), {
      from: COMPLETE.from,
      to: COMPLETE.to,
      version: slot('c.version'),
      cause: COMPLETE.action,
    });
    const c = canonicalSql(completed, slotsOf('c.id', 'c.version'));
    return [
      {
        select: `SELECT $1::timestamptz, $2::uuid, $3::text, $4::text, $5::text, e.disbursement_id::text,
                        jsonb_build_object('reference', e.reference, 'statementId', $7::text, 'entryId', e.id, 'matchKind', 'auto'), $6::text,
                        ${shiftParams(r.sql, 8)}
                   FROM statement_entries e
                  WHERE e.statement_id = $8::uuid AND e.status = 'matched' AND e.match_kind = 'auto'
                  ORDER BY e.position`,
        params: [...this.fixedParams(reconciled), this.statementId, this.statementId, ...r.params],
      },
      {
        select: `SELECT $1::timestamptz, $2::uuid, $3::text, $4::text, $5::text, c.id::text,
                        jsonb_build_object('from', $7::text, 'to', $8::text, 'version', c.version, 'cause', $9::text), $6::text,
                        ${shiftParams(c.sql, 9)}
                   FROM ${COMPLETED} c
                  ORDER BY c.id`,
        params: [...this.fixedParams(completed), COMPLETE.from, COMPLETE.to, COMPLETE.action, ...c.params],
      },
    ];
  }

  private content(action: string, objectType: string, objectId: string, summary: Record<string, unknown>): AuditContent {
    return {
      occurredAt: this.occurredAt.toISOString(),
      actorId: this.user.id,
      actorRole: this.user.role,
      action,
      objectType,
      objectId,
      summary,
      requestId: currentRequestId(),
    };
  }

  /** $1..$6: occurred_at, actor_id, actor_role, action, object_type, request_id. */
  private fixedParams(content: AuditContent): unknown[] {
    return [content.occurredAt, content.actorId, content.actorRole, content.action, content.objectType, content.requestId];
  }
}
