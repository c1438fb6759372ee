import { EntityManager } from 'typeorm';
import { AuditContent } from 'src/audit/audit-hash';
import { AuthUser } from 'src/common/auth/roles';
import { currentRequestId } from 'src/common/logging/request-context';
import { findTransition, mayTake, SYSTEM_ACTOR } from 'src/applications/application-status';
import { canonicalSql, shiftParams, slot, slotsOf } from 'src/reconciliation/bulk-audit';
import { PENDING_MATCHES } from 'src/reconciliation/statement-import-run';

/** The columns StatementImportRun fills, copied as they are from PENDING_MATCHES into statement_entries. */
const ENTRY_COLUMNS = [
  'id', 'statement_id', 'hospital_id', 'position', 'location', 'booking_date', 'value_date', 'amount', 'credit_debit', 'currency',
  'entry_status', 'reversal', 'account_servicer_reference', 'end_to_end_id', 'instruction_id', 'remittance', 'structured_references',
  'counterparty', 'additional_info', 'reference', 'fingerprint',
];

/** The system transition the last reconciled tranche makes, from the transition table (GrantProgressService.completeIfSettled). */
const COMPLETE = (() => {
  const transition = findTransition('disbursing', 'complete');
  if (!transition || !mayTake(transition, SYSTEM_ACTOR)) throw new Error('the transition table has no system transition disbursing → complete');
  return transition;
})();

const AUDIT_COLUMNS = 'occurred_at, actor_id, actor_role, action, object_type, object_id, summary, request_id, canonical';

/**
 * Settles the automatic matches of one import in a handful of set-based statements, whatever their number (the
 * per-application loop it replaces made ~8 round trips per match). What it keeps from that loop:
 *  - locks: every application concerned, in id order, before any of its tranches (the lock order of every money
 *    path, GrantProgressService); a tranche is then changed only if it is still paid, of this hospital and of the
 *    entry's amount — so an import and a person matching the same tranche cannot both win, and the unique index
 *    statement_entries_one_match_key stays the last word;
 *  - a match that no longer holds keeps its entry unmatched, with the tranche's status in the reason;
 *  - disbursing → completed (per the transition table) for an application with nothing left to pay or reconcile;
 *  - the audit events, with the same actions and content: disbursement.reconciled per tranche and
 *    application.completed per application, written into audit_pending (chained at COMMIT, AuditService).
 */
export class StatementSettlement {
  private readonly occurredAt = new Date();

  constructor(
    private readonly tx: EntityManager,
    private readonly statementId: string,
    private readonly hospitalId: string,
    private readonly user: AuthUser,
  ) {}

  /** Locks and changes the tranches and stores the pending matches as entries of the statement. */
  async settle(): Promise<void> {
    await this.tx.query(`ANALYZE ${PENDING_MATCHES}`);
    await this.tx.query(
      `SELECT count(*) FROM (
         SELECT a.id FROM applications a
          WHERE a.id IN (SELECT d.application_id FROM disbursements d JOIN ${PENDING_MATCHES} p ON p.disbursement_id = d.id)
          ORDER BY a.id FOR UPDATE OF a) locked`,
    );
    const columns = ENTRY_COLUMNS.join(', ');
    await this.tx.query(
      `WITH settled AS (
         UPDATE disbursements d SET status = 'reconciled', reconciled_at = $2, updated_at = $2, version = d.version + 1
           FROM ${PENDING_MATCHES} p
          WHERE d.id = p.disbursement_id AND d.status = 'paid' AND d.amount = p.amount AND d.hospital_id = $1
         RETURNING d.id)
       INSERT INTO statement_entries (${columns}, status, reason, disbursement_id, match_kind, matched_by, matched_at)
       SELECT ${ENTRY_COLUMNS.map((c) => `p.${c}`).join(', ')},
              CASE WHEN s.id IS NULL THEN 'unmatched' ELSE 'matched' END,
              CASE WHEN s.id IS NULL THEN 'the disbursement changed during the import (now ' || coalesce(d.status, 'gone') || ')' END,
              s.id,
              CASE WHEN s.id IS NOT NULL THEN 'auto' END,
              CASE WHEN s.id IS NOT NULL THEN $3::uuid END,
              CASE WHEN s.id IS NOT NULL THEN $2::timestamptz END
         FROM ${PENDING_MATCHES} p
         LEFT JOIN settled s ON s.id = p.disbursement_id
         LEFT JOIN disbursements d ON d.id = p.disbursement_id`,
      [this.hospitalId, this.occurredAt, this.user.id],
    );
  }

  /** disbursement.reconciled, one per tranche this import reconciled, in file order. */
  async auditReconciled(): Promise<void> {
    const content = this.content('disbursement.reconciled', 'disbursement', slot('e.disbursement_id'), {
      reference: slot('e.reference'),
      statementId: this.statementId,
      entryId: slot('e.id'),
      matchKind: 'auto',
    });
    const { sql, params } = canonicalSql(content, slotsOf('e.disbursement_id', 'e.reference', 'e.id'));
    const fixed = this.fixedParams(content);
    await this.tx.query(
      `INSERT INTO audit_pending (${AUDIT_COLUMNS})
       SELECT $1::timestamptz, $2::uuid, $3::text, $4::text, $5::text, e.disbursement_id::text,
              jsonb_build_object('reference', e.reference, 'statementId', $7::text, 'entryId', e.id, 'matchKind', 'auto'), $6::text,
              ${shiftParams(sql, 8)}
         FROM statement_entries e
        WHERE e.statement_id = $8::uuid AND e.status = 'matched' AND e.match_kind = 'auto'
        ORDER BY e.position`,
      [...fixed, this.statementId, this.statementId, ...params],
    );
  }

  /**
   * disbursing → completed for every application of a tranche this import tried to settle that now has nothing left
   * to pay or reconcile (at least one tranche reconciled, every other one reconciled or cancelled), with its audit
   * event application.completed — what GrantProgressService.completeIfSettled and recordStatusChange did per row.
   */
  async completeSettled(): Promise<void> {
    const content = this.content(`application.${COMPLETE.to}`, 'application', slot('c.id'), {
      from: COMPLETE.from,
      to: COMPLETE.to,
      version: slot('c.version'),
      cause: COMPLETE.action,
    });
    const { sql, params } = canonicalSql(content, slotsOf('c.id', 'c.version'));
    const fixed = this.fixedParams(content);
    await this.tx.query(
      `WITH completed AS (
         UPDATE applications a SET status = $8::text, version = a.version + 1, updated_at = $10::timestamptz
          WHERE a.id IN (SELECT d.application_id FROM disbursements d JOIN ${PENDING_MATCHES} p ON p.disbursement_id = d.id)
            AND a.status = $7::text
            AND EXISTS (SELECT 1 FROM disbursements r WHERE r.application_id = a.id AND r.status = 'reconciled')
            AND NOT EXISTS (SELECT 1 FROM disbursements o WHERE o.application_id = a.id AND o.status NOT IN ('reconciled', 'cancelled'))
         RETURNING a.id, a.version)
       INSERT INTO audit_pending (${AUDIT_COLUMNS})
       SELECT $1::timestamptz, $2::uuid, $3::text, $4::text, $5::text, c.id::text, jsonb_build_object('from', $7::text, 'to', $8::text, 'version', c.version, 'cause', $9::text), $6::text,
              ${shiftParams(sql, 10)}
         FROM completed c
        ORDER BY c.id`,
      [...fixed, COMPLETE.from, COMPLETE.to, COMPLETE.action, this.occurredAt, ...params],
    );
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
