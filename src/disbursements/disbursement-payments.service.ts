import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { ConflictException, InvalidInputException } from 'src/common/problem/problem.exception';
import { IdempotencyService, IdempotentResult } from 'src/common/idempotency/idempotency.service';
import { DisbursementNotifications } from 'src/disbursements/disbursement-notifications';
import { DisbursementPayment, returnDay } from 'src/disbursements/disbursement-payment.entity';
import { DisbursementsService } from 'src/disbursements/disbursements.service';
import { Disbursement } from 'src/disbursements/disbursement.entity';
import { DisbursementAlreadyPaidException, DisbursementStatusConflictException, ReconciledNotReturnableException } from 'src/disbursements/disbursements.exceptions';
import { DisbursementDto, PayDisbursementDto, RepointDto, ReturnDto } from 'src/disbursements/dto/disbursement.dto';
import { GrantProgressService } from 'src/disbursements/grant-progress.service';
import { inPaymentFiles } from 'src/disbursements/payment-files';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { FundLedgerService } from 'src/fund/fund-ledger.service';
import { Hospital } from 'src/hospitals/hospital.entity';

/**
 * The cancelled tranche's reason when its payment comes back after the grant was cancelled. The family reads a tranche's
 * cancel reason, in either of the service's languages (the reasons fund finance writes are in the family's); the bank's
 * reason for the return is about the hospital's account and goes to the hospital's finance office (its email) and the
 * payment's record, not here.
 */
export const RETURNED_AFTER_CANCELLATION = '资助取消后，这笔付款被银行退回。Returned by the bank after the grant was cancelled.';

/**
 * Paying a tranche, recording the bank's return of a payment, and scheduling a returned tranche again.
 * Each runs in one transaction: application and tranche locked, the ledger movement, the status changes,
 * the emails (outbox) and the audit events commit together or not at all.
 */
@Injectable()
export class DisbursementPaymentsService {
  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly ledger: FundLedgerService,
    private readonly progress: GrantProgressService,
    private readonly notifications: DisbursementNotifications,
    private readonly disbursements: DisbursementsService,
    private readonly audit: AuditService,
  ) {}

  /**
   * scheduled → paid and committed → disbursed. The first paid tranche moves the application to disbursing.
   * A second payment of the tranche is refused in code (409) and, should two requests race past that, by the
   * partial unique index disbursement_payments_one_live_key.
   */
  async pay(user: AuthUser, id: string, dto: PayDisbursementDto, key: string | undefined): Promise<IdempotentResult<DisbursementDto>> {
    const request = { key, principal: user.id, operation: `POST /disbursements/${id}/pay`, payload: dto };
    try {
      return await this.idempotency.execute(request, 200, async (tx) => {
        const { app, d } = await this.lock(tx, id);
        if (d.status === 'paid' || d.status === 'reconciled') throw new DisbursementAlreadyPaidException();
        if (d.status !== 'scheduled') throw new DisbursementStatusConflictException('paid', d.status);
        if (app.status !== 'approved' && app.status !== 'disbursing') {
          throw new ConflictException('application-not-payable', `The grant is ${app.status}; its tranches cannot be paid.`);
        }
        // A transfer dated before the grant existed is a typo (2025 for 2026) that would put money in a month
        // and a report before its approval.
        const approvedOn = todayIn(FUND_TIME_ZONE, d.createdAt);
        if (dto.paidOn < approvedOn) {
          throw new InvalidInputException([{ field: 'paidOn', message: `must not be before ${approvedOn}, the day the grant was approved (Asia/Shanghai)` }]);
        }
        // Nor, paying again, before the bank returned the last payment: that would reopen a closed month's figures.
        const returnedOn = await this.lastReturnDay(tx, d.id);
        if (returnedOn && dto.paidOn < returnedOn) {
          throw new InvalidInputException([{ field: 'paidOn', message: `must not be before ${returnedOn}, the day the previous payment was returned (Asia/Shanghai)` }]);
        }

        // Recorded, not refused: the transfer was made. The event says it went to an account the hospital no longer has.
        const payeeOutdated = (await currentPayee(tx, d)).payeeChangedFields.length > 0;
        const posting = await this.ledger.disburse(tx, { applicationId: app.id, disbursementId: d.id, amount: d.amount, actor: user });
        const inserted = await tx.insert(DisbursementPayment, {
          disbursementId: d.id,
          amount: d.amount,
          paidOn: dto.paidOn,
          bankReference: dto.bankReference,
          paidBy: user.id,
          journalTransactionId: posting.journalTransactionId,
        } as QueryDeepPartialEntity<DisbursementPayment>);
        const paymentId = String(inserted.identifiers[0].id);
        await this.progress.moveDisbursement(tx, d, 'scheduled', { status: 'paid', currentPaymentId: paymentId });
        const change = await this.progress.afterPayment(tx, app);
        await this.notifications.tranchePaid(tx, app, d, dto);
        await this.progress.recordStatusChange(tx, user, change);
        await this.audit.record(tx, {
          actor: user,
          action: 'disbursement.paid',
          objectType: 'disbursement',
          objectId: d.id,
          summary: {
            applicationId: app.id,
            reference: d.reference,
            amount: d.amount,
            paidOn: dto.paidOn,
            journalTransactionId: posting.journalTransactionId,
            ...(payeeOutdated ? { payeeOutdated } : {}),
          },
        });
        return this.disbursements.get(user, d.id, tx);
      });
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code === '23505' && constraint === 'disbursement_payments_one_live_key') throw new DisbursementAlreadyPaidException();
      throw error;
    }
  }

  /**
   * The bank returned a payment (wrong account, account closed): paid → returned and disbursed → committed.
   * The tranche can then be scheduled again. When the grant was cancelled meanwhile, the returned amount has
   * nothing left to wait for: it is released to the fund at once and the tranche is cancelled.
   */
  async returnPayment(user: AuthUser, id: string, dto: ReturnDto, key: string | undefined): Promise<IdempotentResult<DisbursementDto>> {
    const request = { key, principal: user.id, operation: `POST /disbursements/${id}/return`, payload: dto };
    return this.idempotency.execute(request, 200, async (tx) => {
      const { app, d } = await this.lock(tx, id);
      if (d.status === 'reconciled') throw new ReconciledNotReturnableException();
      if (d.status !== 'paid') throw new DisbursementStatusConflictException('returned', d.status);
      const now = new Date();
      // Today by the database's clock, the one returned_at is written with below, so the two name one day.
      const [{ paid_on: paidOn, bank_reference: bankReference, today }] = (await tx.query(
        `SELECT paid_on::text AS paid_on, bank_reference, (now() AT TIME ZONE '${FUND_TIME_ZONE}')::date::text AS today FROM disbursement_payments WHERE id = $1`,
        [d.currentPaymentId],
      )) as { paid_on: string; bank_reference: string; today: string }[];
      const returnedOn = dto.returnedOn ?? today;
      if (returnedOn < paidOn) {
        throw new InvalidInputException([{ field: 'returnedOn', message: `must not be before ${paidOn}, the day the payment was made (Asia/Shanghai)` }]);
      }
      const posting = await this.ledger.returnPayment(tx, { applicationId: app.id, disbursementId: d.id, amount: d.amount, actor: user });
      const [, returned] = (await tx.query(
        // The database's clock, as a statement's import time (bank_statements.created_at) is: money-back matching
        // compares the two (MatchCandidates), and the api's clock may be a few seconds off the database's.
        `UPDATE disbursement_payments SET returned_at = now(), returned_on = $5, returned_by = $2, return_reason = $3, return_journal_transaction_id = $4
          WHERE id = $1 AND returned_at IS NULL`,
        [d.currentPaymentId, user.id, dto.reason, posting.journalTransactionId, returnedOn],
      )) as [unknown, number];
      if (returned !== 1) throw new DisbursementStatusConflictException('returned', d.status);
      let status: 'returned' | 'cancelled' = 'returned';
      if (app.status === 'cancelled') {
        await this.ledger.releaseCommitment(tx, { applicationId: app.id, amount: d.amount, actor: user, disbursementId: d.id });
        await this.progress.moveDisbursement(tx, d, 'paid', { status: 'cancelled', currentPaymentId: null, cancelledAt: now, cancelledBy: user.id, cancelReason: RETURNED_AFTER_CANCELLATION });
        status = 'cancelled';
      } else {
        // The file that paid it was executed; paying it again takes a new one.
        await this.progress.moveDisbursement(tx, d, 'paid', { status: 'returned', currentPaymentId: null, exportedAt: null });
      }
      await this.notifications.trancheReturned(tx, app, d, { paidOn, bankReference, returnedOn, reason: dto.reason }, status === 'returned');
      await this.audit.record(tx, {
        actor: user,
        action: 'disbursement.returned',
        objectType: 'disbursement',
        objectId: d.id,
        summary: { applicationId: app.id, reference: d.reference, amount: d.amount, returnedOn, status, journalTransactionId: posting.journalTransactionId },
      });
      return this.disbursements.get(user, d.id, tx);
    });
  }

  /**
   * returned → scheduled, paying into the hospital's CURRENT bank account: a return usually means the account
   * details were wrong, so the snapshot is taken again. Moves no money (the amount is committed again already).
   */
  async reschedule(user: AuthUser, id: string, key: string | undefined): Promise<IdempotentResult<DisbursementDto>> {
    const request = { key, principal: user.id, operation: `POST /disbursements/${id}/reschedule`, payload: {} };
    return this.idempotency.execute(request, 200, async (tx) => {
      const { app, d } = await this.lock(tx, id);
      if (d.status !== 'returned') throw new DisbursementStatusConflictException('scheduled again', d.status);
      const { payee, previousPayee, payeeChangedFields, payeeColumns } = await currentPayee(tx, d);
      await this.progress.moveDisbursement(tx, d, 'returned', { status: 'scheduled', exportedAt: null, ...payeeColumns });
      await this.audit.record(tx, {
        actor: user,
        action: 'disbursement.rescheduled',
        objectType: 'disbursement',
        objectId: d.id,
        summary: {
          applicationId: app.id,
          reference: d.reference,
          payeeChanged: payeeChangedFields.length > 0,
          ...(payeeChangedFields.length ? { payeeChangedFields, previousPayee, payee } : {}),
        },
      });
      return this.disbursements.get(user, d.id, tx);
    });
  }

  /**
   * A scheduled tranche paid into the hospital's CURRENT bank account, after an admin corrected the hospital's: a
   * scheduled tranche keeps the account it was scheduled with until fund finance moves it here (an admin's edit alone
   * redirects no scheduled money). Moves no money. One already in a payment file needs `notSentToBank`, as a
   * cancellation does.
   */
  async repoint(user: AuthUser, id: string, dto: RepointDto, key: string | undefined): Promise<IdempotentResult<DisbursementDto>> {
    const request = { key, principal: user.id, operation: `POST /disbursements/${id}/repoint`, payload: dto };
    return this.idempotency.execute(request, 200, async (tx) => {
      const { app, d } = await this.lock(tx, id);
      if (d.status !== 'scheduled') throw new DisbursementStatusConflictException('moved to the current account', d.status);
      const { payee, previousPayee, payeeChangedFields, payeeColumns } = await currentPayee(tx, d);
      if (!payeeChangedFields.length) throw new ConflictException('payee-unchanged', "The tranche already pays into the hospital's current bank account.");
      inPaymentFiles([d], dto);
      await this.progress.moveDisbursement(tx, d, 'scheduled', { exportedAt: null, ...payeeColumns });
      await this.audit.record(tx, {
        actor: user,
        action: 'disbursement.repointed',
        objectType: 'disbursement',
        objectId: d.id,
        summary: {
          applicationId: app.id,
          reference: d.reference,
          payeeChangedFields,
          previousPayee,
          payee,
          ...(d.exportedAt ? { notSentToBank: true, exportedAt: d.exportedAt } : {}),
        },
      });
      return this.disbursements.get(user, d.id, tx);
    });
  }

  /** The day the tranche's latest returned payment came back (Asia/Shanghai), if any came back. */
  private async lastReturnDay(tx: EntityManager, disbursementId: string): Promise<string | null> {
    const [{ returned_on: returnedOn }] = (await tx.query(`SELECT max(${returnDay()})::text AS returned_on FROM disbursement_payments WHERE disbursement_id = $1`, [
      disbursementId,
    ])) as { returned_on: string | null }[];
    return returnedOn;
  }

  /** Application first, then the tranche (the module's lock order). */
  private async lock(tx: EntityManager, id: string) {
    const applicationId = await this.progress.applicationIdOf(tx, id);
    const app = await this.progress.lockApplication(tx, applicationId);
    const d = await this.progress.lockDisbursement(tx, id);
    return { app, d };
  }
}

type Payee = { bankName: string; accountName: string; accountNumber: string };

/**
 * The hospital's current bank account beside the tranche's, and what differs. Read FOR SHARE, as at approval: an
 * admin's correction of the account in flight is waited for, not read past.
 */
async function currentPayee(
  tx: EntityManager,
  d: Disbursement,
): Promise<{ payee: Payee; previousPayee: Payee; payeeChangedFields: (keyof Payee)[]; payeeColumns: Pick<Disbursement, 'payeeBankName' | 'payeeAccountName' | 'payeeAccountNumber'> }> {
  const hospital = await tx.getRepository(Hospital).findOneOrFail({ where: { id: d.hospitalId }, lock: { mode: 'pessimistic_read' } });
  const payee = { bankName: hospital.bankName, accountName: hospital.bankAccountName, accountNumber: hospital.bankAccountNumber };
  const previousPayee = { bankName: d.payeeBankName, accountName: d.payeeAccountName, accountNumber: d.payeeAccountNumber };
  const payeeChangedFields = (Object.keys(payee) as (keyof Payee)[]).filter((field) => payee[field] !== previousPayee[field]);
  const payeeColumns = { payeeBankName: payee.bankName, payeeAccountName: payee.accountName, payeeAccountNumber: payee.accountNumber };
  return { payee, previousPayee, payeeChangedFields, payeeColumns };
}
