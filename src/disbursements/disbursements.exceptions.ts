import { ConflictException, ProblemException, ResourceNotFoundException } from 'src/common/problem/problem.exception';
import type { DisbursementStatus } from 'src/disbursements/disbursement.entity';

/** The tranche is not in a status the action starts from (paying a paid tranche, cancelling a paid one, …). */
export class DisbursementStatusConflictException extends ConflictException {
  constructor(action: string, status: DisbursementStatus) {
    super('disbursement-status-conflict', `A ${status} disbursement cannot be ${action}.`, { currentStatus: status });
  }
}

/**
 * A reconciled tranche's money arrived, by the hospital's statement: recording it as sent back contradicts the entry
 * that reconciled it, which the hospital's finance office unmatches first (if the bank did take it back).
 */
export class ReconciledNotReturnableException extends ConflictException {
  constructor() {
    super(
      'disbursement-status-conflict',
      "A reconciled disbursement cannot be returned: a statement entry of the hospital shows its payment arrived. If the bank took it back, the hospital's finance office unmatches that entry first (POST /reconciliation/entries/{id}/unmatch); a grant already completed cannot be reopened in Sprout.",
      { currentStatus: 'reconciled' },
    );
  }
}

/** A scheduled tranche in a payment file the bank may be executing: cancelled, its payment could never be recorded. */
export class TrancheInPaymentFileException extends ConflictException {
  constructor(tranches: { reference: string; exportedAt: Date }[]) {
    const list = tranches.map((t) => `${t.reference} (exported ${t.exportedAt.toISOString()})`).join(', ');
    super(
      'tranche-in-payment-file',
      `${list} went out in a payment file. If the bank has not paid and will not pay it, send the request again with notSentToBank: true; if it paid, record the payment first.`,
      { references: tranches.map((t) => t.reference) },
    );
  }
}

/** A reissue naming an exportedAt no scheduled tranche carries: no file then, or each of its payments since recorded or moved. */
export class PaymentFileNotFoundException extends ProblemException {
  constructor(exportedAt: string) {
    super(
      404,
      'payment-file-not-found',
      'Not found',
      `No scheduled tranche went out in a payment file exported at ${exportedAt}: none was exported then, or each of its payments has since been recorded, cancelled, rescheduled or repointed.`,
    );
  }
}

/** A payment file would send tranches to accounts the hospitals no longer have: fund finance decides, not the file. */
export class PayeesOutdatedException extends ConflictException {
  constructor(tranches: { reference: string; hospitalId: string }[]) {
    const shown = tranches.slice(0, 20).map((t) => t.reference).join(', ');
    const more = tranches.length > 20 ? ` and ${tranches.length - 20} more` : '';
    super(
      'payees-outdated',
      `${tranches.length} scheduled tranche(s) would be paid into a bank account their hospital no longer has: ${shown}${more}. ` +
        'Move each to the current account (POST /disbursements/{id}/repoint), or export again with outdatedPayees=exclude (the file without them) ' +
        'or outdatedPayees=include (paid to the account they were scheduled with).',
      { references: tranches.map((t) => t.reference), hospitalIds: [...new Set(tranches.map((t) => t.hospitalId))] },
    );
  }
}

export class DisbursementAlreadyPaidException extends ConflictException {
  constructor() {
    super('disbursement-already-paid', 'This disbursement has already been paid.');
  }
}

/** Scheduling refused: the approval's inputs cannot produce valid tranches (no hospital, no bank account, bad split). */
export class TrancheScheduleException extends ProblemException {
  constructor(detail: string) {
    super(409, 'tranche-schedule-failed', 'Tranches cannot be scheduled', detail);
  }
}

export class DisbursementNotFoundException extends ResourceNotFoundException {
  constructor() {
    super('Disbursement');
  }
}

/** hospital_finance naming another hospital in a filter or an import: the hospital exists (GET /hospitals), but is not theirs. */
export class OtherHospitalException extends ProblemException {
  constructor() {
    super(403, 'hospital-not-yours', 'Forbidden', 'Hospital finance users act only for their own hospital.');
  }
}
