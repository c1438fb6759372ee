import type { AuthUser, Role } from 'src/common/auth/roles';
import { seesBankAccount } from 'src/hospitals/bank-account-visibility';
import { DisbursementStatus } from 'src/disbursements/disbursement.entity';
import { DisbursementDto } from 'src/disbursements/dto/disbursement.dto';

/** A disbursement with its live payment, as read by DISBURSEMENT_SELECT. */
export type DisbursementRow = {
  id: string;
  application_id: string;
  hospital_id: string;
  reference: string;
  tranche_number: number;
  tranche_count: number;
  label: string;
  amount: string;
  currency: string;
  status: DisbursementStatus;
  payee_bank_name: string;
  payee_account_name: string;
  payee_account_number: string;
  paid_on: string | null;
  bank_reference: string | null;
  paid_at: Date | null;
  reconciled_at: Date | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  exported_at: Date | null;
  payee_outdated: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
  /** created_at as PostgreSQL text: microseconds kept, for keyset cursors. */
  cursor_at: string;
};

/**
 * Over `disbursements d JOIN hospitals h`: a tranche still to be paid (scheduled, or returned and waiting to be scheduled
 * again) whose payee is not the hospital's current bank account. A paid, reconciled or cancelled tranche never is: its
 * payee is where the money went, or would have.
 */
export const PAYEE_OUTDATED = `(d.status IN ('scheduled', 'returned')
  AND (d.payee_bank_name, d.payee_account_name, d.payee_account_number) IS DISTINCT FROM (h.bank_name, h.bank_account_name, h.bank_account_number))`;

/**
 * `FROM <source> d` (with its hospital h); add WHERE/ORDER. `source` is the table, or a subquery of its rows (a page
 * chosen before the joins). paid_on is read as text (no time zone shift).
 */
export function disbursementSelect(source = 'disbursements'): string {
  return `
  SELECT d.id, d.application_id, d.hospital_id, d.reference, d.tranche_number, d.tranche_count, d.label, d.amount::text AS amount,
         d.currency, d.status, d.payee_bank_name, d.payee_account_name, d.payee_account_number,
         p.paid_on::text AS paid_on, p.bank_reference, p.created_at AS paid_at,
         d.reconciled_at, d.cancelled_at, d.cancel_reason, d.exported_at, ${PAYEE_OUTDATED} AS payee_outdated,
         d.version, d.created_at, d.updated_at, d.created_at::text AS cursor_at
    FROM ${source} d
    JOIN hospitals h ON h.id = d.hospital_id
    LEFT JOIN disbursement_payments p ON p.id = d.current_payment_id`;
}

export const DISBURSEMENT_SELECT = disbursementSelect();

/**
 * The tranche as `role` may read it. Hospital finance matches payouts: the reason fund finance wrote for cancelling a
 * tranche is written for the family (and may speak of it), so hospital finance gets the status and time without it,
 * as its emails do (disbursement-notifications.ts).
 */
export function toDisbursementDto(r: DisbursementRow, reader?: AuthUser): DisbursementDto {
  const role: Role | undefined = reader?.role;
  const iso = (value: Date | null) => (value ? value.toISOString() : null);
  return {
    id: r.id,
    applicationId: r.application_id,
    hospitalId: r.hospital_id,
    reference: r.reference,
    trancheNumber: r.tranche_number,
    trancheCount: r.tranche_count,
    label: r.label,
    amount: Number(r.amount),
    currency: r.currency,
    status: r.status,
    // Where the money goes, for those who pay or check it (as GET /hospitals gives it); a family, or a reviewer, reads
    // the tranches of a grant without it.
    ...(!reader || seesBankAccount(reader, r.hospital_id)
      ? { payee: { bankName: r.payee_bank_name, accountName: r.payee_account_name, accountNumber: r.payee_account_number } }
      : {}),
    paidOn: r.paid_on,
    bankReference: r.bank_reference,
    paidAt: iso(r.paid_at),
    reconciledAt: iso(r.reconciled_at),
    cancelledAt: iso(r.cancelled_at),
    cancelReason: role === 'hospital_finance' ? null : r.cancel_reason,
    exportedAt: iso(r.exported_at),
    payeeOutdated: r.payee_outdated,
    version: r.version,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}
