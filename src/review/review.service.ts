import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ApplicationRecords } from 'src/applications/application-records';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { IdempotencyService, IdempotentResult } from 'src/common/idempotency/idempotency.service';
import { FundLedgerService } from 'src/fund/fund-ledger.service';
import { OutboxService } from 'src/notifications/outbox.service';
import { RejectDto, RequestInfoDto, ReviewResultDto } from 'src/review/dto/review-actions.dto';
import { FieldSnapshots } from 'src/review/field-snapshots';
import { InfoRequest } from 'src/review/info-request.entity';
import { ReviewDecisions } from 'src/review/review-decisions';
import { ReviewGate } from 'src/review/review-gate';

/**
 * start-review, request-info and reject. Each is one transaction: the guarded status change, the records it
 * leaves (decision, information request), the family's email in its language, and the audit event last.
 */
@Injectable()
export class ReviewService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gate: ReviewGate,
    private readonly records: ApplicationRecords,
    private readonly decisions: ReviewDecisions,
    private readonly snapshots: FieldSnapshots,
    private readonly ledger: FundLedgerService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    private readonly idempotency: IdempotencyService,
  ) {}

  async startReview(user: AuthUser, id: string, expectedVersion?: number): Promise<ReviewResultDto> {
    return this.dataSource.transaction(async (tx) => {
      const { app, transition } = await this.gate.open(tx, user, id, 'start-review', { expectedVersion });
      const version = await this.records.guardedUpdate(tx, app, { status: transition.to, updatedAt: new Date() });
      await this.audit.record(tx, {
        actor: user,
        action: 'application.review_started',
        objectType: 'application',
        objectId: app.id,
        summary: { from: app.status, to: transition.to, version },
      });
      return { id: app.id, reference: app.reference, status: transition.to, version };
    });
  }

  /** Keeps keyed hashes of every field, so the reviewer later sees which ones the family changed in its answer. */
  async requestInfo(user: AuthUser, id: string, dto: RequestInfoDto, expectedVersion?: number): Promise<ReviewResultDto> {
    return this.dataSource.transaction(async (tx) => {
      const { app, transition } = await this.gate.open(tx, user, id, 'request-info', { expectedVersion, withIds: true });
      const now = new Date();
      const fieldHashes = await this.snapshots.take(tx, app);
      const inserted = await tx.insert(InfoRequest, {
        applicationId: app.id,
        requestedBy: user.id,
        message: dto.message,
        fieldHashes,
        requestedAt: now,
      } as QueryDeepPartialEntity<InfoRequest>);
      const infoRequestId = String(inserted.identifiers[0].id);
      const version = await this.records.guardedUpdate(tx, app, { status: transition.to, updatedAt: now });
      const family = await this.gate.family(tx, app);
      if (family) {
        await this.outbox.enqueue(tx, {
          event: 'application.info_requested',
          template: 'info-requested',
          to: family,
          // Not the question itself: it may quote the child's medical or the household's detail, which emails never
          // carry (DESIGN); the family reads it in the app (GET /applications/:id/info-requests).
          context: { fullName: family.fullName, reference: app.reference, applicationUrl: this.gate.applicationUrl(app.id) },
        });
      }
      // Nor does the audit trail keep it, for the same reason.
      await this.audit.record(tx, {
        actor: user,
        action: 'application.info_requested',
        objectType: 'application',
        objectId: app.id,
        summary: { from: app.status, to: transition.to, version, infoRequestId },
      });
      return { id: app.id, reference: app.reference, status: transition.to, version };
    });
  }

  /** From awaiting_second_approval the first approval's reservation goes back to the fund's available balance. */
  async reject(user: AuthUser, id: string, dto: RejectDto, expectedVersion?: number, key?: string): Promise<IdempotentResult<ReviewResultDto>> {
    const request = { key, principal: user.id, operation: `POST /applications/${id}/reject`, payload: { ...dto, expectedVersion } };
    return this.idempotency.execute(request, 200, async (tx) => {
      const { app, transition } = await this.gate.open(tx, user, id, 'reject', { expectedVersion });
      const now = new Date();
      let released = 0;
      if (app.status === 'awaiting_second_approval') {
        // Ledger before our own audit event (the ledger's lock order).
        const { committed } = await this.ledger.grantBalance(tx, app.id);
        if (committed > 0) {
          await this.ledger.releaseCommitment(tx, { applicationId: app.id, amount: committed, actor: user });
          released = committed;
        }
      }
      const version = await this.records.guardedUpdate(tx, app, { status: transition.to, updatedAt: now });
      const decision = await this.decisions.record(tx, {
        applicationId: app.id,
        kind: 'rejection',
        reviewer: user,
        from: app.status,
        to: transition.to,
        reason: dto.reason,
        at: now,
      });
      const family = await this.gate.family(tx, app);
      if (family) {
        await this.outbox.enqueue(tx, {
          event: 'application.rejected',
          template: 'application-rejected',
          to: family,
          context: { fullName: family.fullName, reference: app.reference, reason: dto.reason, applicationUrl: this.gate.applicationUrl(app.id) },
        });
      }
      await this.audit.record(tx, {
        actor: user,
        action: 'application.rejected',
        objectType: 'application',
        objectId: app.id,
        summary: { from: app.status, to: transition.to, version, decisionId: decision.id, ...(released ? { released } : {}) },
      });
      return { id: app.id, reference: app.reference, status: transition.to, version, decisionId: decision.id };
    });
  }
}
