import { Injectable } from '@nestjs/common';
import { ApplicationRecords } from 'src/applications/application-records';
import { findTransition, mayTake } from 'src/applications/application-status';
import { ApplicationVersionConflictException, InvalidStatusTransitionException } from 'src/applications/applications.exceptions';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { IdempotencyService, IdempotentResult } from 'src/common/idempotency/idempotency.service';
import { ProblemException } from 'src/common/problem/problem.exception';
import { DISBURSEMENT_SELECT, DisbursementRow, toDisbursementDto } from 'src/disbursements/disbursement-view';
import { DisbursementNotifications } from 'src/disbursements/disbursement-notifications';
import { DisbursementsService } from 'src/disbursements/disbursements.service';
import { DisbursementStatusConflictException } from 'src/disbursements/disbursements.exceptions';
import { ApplicationCancelledDto, CancelDto, DisbursementDto } from 'src/disbursements/dto/disbursement.dto';
import { GrantProgressService } from 'src/disbursements/grant-progress.service';
import { inPaymentFiles } from 'src/disbursements/payment-files';
import { FundLedgerService } from 'src/fund/fund-ledger.service';

/** Cancelling one scheduled tranche, or a whole grant; what is not yet paid goes back to the fund's available balance. */
@Injectable()
export class GrantCancellationService {
  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly ledger: FundLedgerService,
    private readonly progress: GrantProgressService,
    private readonly records: ApplicationRecords,
    private readonly disbursements: DisbursementsService,
    private readonly audit: AuditService,
    private readonly notifications: DisbursementNotifications,
  ) {}

  /**
   * scheduled or returned → cancelled, committed → available. A disbursing grant whose other tranches are all reconciled
   * is then complete; a grant whose tranches are now all cancelled is cancelled.
   */
  async cancelTranche(user: AuthUser, id: string, dto: CancelDto, key: string | undefined): Promise<IdempotentResult<DisbursementDto>> {
    const request = { key, principal: user.id, operation: `POST /disbursements/${id}/cancel`, payload: dto };
    return this.idempotency.execute(request, 200, async (tx) => {
      const app = await this.progress.lockApplication(tx, await this.progress.applicationIdOf(tx, id));
      const d = await this.progress.lockDisbursement(tx, id);
      // A returned tranche is money back with the fund, as a scheduled one is money not sent: either may be cancelled
      // (as cancelling the whole grant cancels both).
      if (d.status !== 'scheduled' && d.status !== 'returned') throw new DisbursementStatusConflictException('cancelled', d.status);
      const inFile = inPaymentFiles([d], dto);
      const posting = await this.ledger.releaseCommitment(tx, { applicationId: app.id, amount: d.amount, actor: user, disbursementId: d.id });
      await this.progress.moveDisbursement(tx, d, d.status, { status: 'cancelled', cancelledAt: new Date(), cancelledBy: user.id, cancelReason: dto.reason });
      const change = await this.progress.afterTrancheCancelled(tx, app, user.role);
      if (change?.to === 'cancelled') {
        // The last live tranche: the family hears that the grant is cancelled, not that the rest of it stands. Every
        // tranche is cancelled now, so nothing of the grant was paid.
        await this.notifications.grantCancelled(tx, app, { tranches: [d], cancelled: [d], paidAmount: 0, cancelledAmount: d.amount, reason: dto.reason });
      } else {
        await this.notifications.trancheCancelled(tx, app, d, dto.reason);
      }
      await this.progress.recordStatusChange(tx, user, change);
      await this.audit.record(tx, {
        actor: user,
        action: 'disbursement.cancelled',
        objectType: 'disbursement',
        objectId: d.id,
        summary: {
          applicationId: app.id,
          reference: d.reference,
          amount: d.amount,
          journalTransactionId: posting.journalTransactionId,
          ...(inFile.length ? { notSentToBank: true, exportedAt: d.exportedAt } : {}),
        },
      });
      return this.disbursements.get(user, d.id, tx);
    });
  }

  /**
   * approved|disbursing → cancelled through the transition table. Every tranche not paid (scheduled, or returned
   * by the bank) is cancelled and its amount released; paid tranches stay as they are (the money has left the
   * fund: they may still be reconciled, or returned — a return then releases its amount too). With
   * `expectedVersion` (If-Match), the application must still be at the version the caller read (409 otherwise).
   */
  async cancelApplication(
    user: AuthUser,
    applicationId: string,
    dto: CancelDto,
    key: string | undefined,
    expectedVersion?: number,
  ): Promise<IdempotentResult<ApplicationCancelledDto>> {
    const request = { key, principal: user.id, operation: `POST /applications/${applicationId}/cancel`, payload: { ...dto, expectedVersion } };
    return this.idempotency.execute(request, 200, async (tx) => {
      const app = await this.records.lockVisible(tx, user, applicationId);
      if (expectedVersion !== undefined && expectedVersion !== app.version) throw new ApplicationVersionConflictException(app.version);
      const transition = findTransition(app.status, 'cancel');
      if (!transition) throw new InvalidStatusTransitionException('cancel', app.status);
      if (!mayTake(transition, user.role)) throw new ProblemException(403, 'role-not-allowed', 'Forbidden', 'Your role may not do this.');

      const tranches = await this.progress.lockDisbursementsOf(tx, app.id);
      const now = new Date();
      let released = 0;
      const unpaid = tranches.filter((t) => t.status === 'scheduled' || t.status === 'returned');
      const inFile = inPaymentFiles(unpaid, dto);
      // What already reached the hospital: paid (and perhaps reconciled) tranches stay as they are.
      const paidAmount = tranches.filter((t) => t.status === 'paid' || t.status === 'reconciled').reduce((sum, t) => sum + t.amount, 0);
      for (const d of unpaid) {
        await this.ledger.releaseCommitment(tx, { applicationId: app.id, amount: d.amount, actor: user, disbursementId: d.id });
        await this.progress.moveDisbursement(tx, d, d.status, { status: 'cancelled', cancelledAt: now, cancelledBy: user.id, cancelReason: dto.reason });
        released += d.amount;
      }
      // Whatever else the grant still has committed (none when the tranches sum to the commitment, as scheduled).
      const rest = (await this.ledger.grantBalance(tx, app.id)).committed;
      if (rest > 0) {
        await this.ledger.releaseCommitment(tx, { applicationId: app.id, amount: rest, actor: user });
        released += rest;
      }
      const version = await this.records.guardedUpdate(tx, app, { status: transition.to, updatedAt: now });
      await this.notifications.grantCancelled(tx, app, { tranches, cancelled: unpaid, paidAmount, cancelledAmount: released, reason: dto.reason });
      await this.audit.record(tx, {
        actor: user,
        action: 'application.cancelled',
        objectType: 'application',
        objectId: app.id,
        summary: {
          from: app.status,
          to: transition.to,
          version,
          released,
          cancelledTranches: unpaid.map((t) => t.reference),
          ...(inFile.length ? { notSentToBank: true, inPaymentFiles: inFile.map((t) => t.reference) } : {}),
        },
      });
      const rows = (await tx.query(`${DISBURSEMENT_SELECT} WHERE d.application_id = $1 ORDER BY d.tranche_number`, [app.id])) as DisbursementRow[];
      return { id: app.id, status: 'cancelled' as const, version, released, disbursements: rows.map((r) => toDisbursementDto(r, user)) };
    });
  }
}
