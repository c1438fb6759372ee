import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuthUser } from 'src/common/auth/roles';
import { currentRequestId } from 'src/common/logging/request-context';
import { AuditEvent } from 'src/audit/audit-event.entity';
import { AuditContent, canonicalJson, chainHash, GENESIS_HASH } from 'src/audit/audit-hash';

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
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Appends one event inside the caller's transaction. The event is linked into the hash chain when the transaction
   * commits, by the database (trigger audit_chain_pending, migration AuditChainAtCommit): under the chain's lock it
   * reads the last hash and stores sha256(prevHash + "\n" + canonicalJson(content)) — what chainHash() computes and
   * verify() checks. No lock is taken here, so an audited write no longer queues behind every other one for its
   * whole remaining transaction; a rolled-back transaction chains nothing.
   */
  async record(tx: EntityManager, record: AuditRecord): Promise<void> {
    const content: AuditContent = {
      occurredAt: new Date().toISOString(),
      actorId: record.actor?.id ?? null,
      actorRole: record.actor?.role ?? null,
      action: record.action,
      objectType: record.objectType,
      objectId: record.objectId ?? null,
      summary: record.summary ?? {},
      requestId: currentRequestId(),
    };
    await tx.query(
      `INSERT INTO audit_pending (occurred_at, actor_id, actor_role, action, object_type, object_id, summary, request_id, canonical)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        content.occurredAt,
        content.actorId,
        content.actorRole,
        content.action,
        content.objectType,
        content.objectId,
        JSON.stringify(content.summary),
        content.requestId,
        canonicalJson(content),
      ],
    );
  }

  /** Recomputes the whole chain and names the first row whose content or link does not hold. */
  async verify(): Promise<{ ok: boolean; checked: number; firstBrokenId: string | null; reason: string | null }> {
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

  async historyOf(objectType: string, objectId: string): Promise<AuditEvent[]> {
    return this.dataSource.getRepository(AuditEvent).find({ where: { objectType, objectId }, order: { id: 'ASC' } });
  }
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
