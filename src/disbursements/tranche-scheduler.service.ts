import { Injectable } from '@nestjs/common';
import { TREATMENT_PLANS, TreatmentPlan } from 'src/assessment/means-policy';
import { MeansPolicyVersion } from 'src/assessment/means-policy-version.entity';
import { AuthUser } from 'src/common/auth/roles';
import { SqlPart } from 'src/database/statement-parts';
import { Disbursement } from 'src/disbursements/disbursement.entity';
import { TrancheScheduleException } from 'src/disbursements/disbursements.exceptions';
import { trancheReference, MAX_TRANCHES } from 'src/disbursements/tranche-reference';
import { splitIntoTranches, TrancheSplitError } from 'src/disbursements/tranche-split';
import { Hospital } from 'src/hospitals/hospital.entity';

/** What a tranche is paid to: the treating hospital's bank account. */
export type HospitalPayee = Pick<Hospital, 'id' | 'bankName' | 'bankAccountName' | 'bankAccountNumber'>;

/** One planned tranche, before it is stored. */
export type TrancheRow = Pick<
  Disbursement,
  'applicationId' | 'hospitalId' | 'trancheNumber' | 'trancheCount' | 'label' | 'reference' | 'amount' | 'payeeBankName' | 'payeeAccountName' | 'payeeAccountNumber'
>;

export type ScheduleInput = {
  applicationId: string;
  /** The application's reference, `SPR-YYYY-NNNNNN`; tranche k gets `SPR-YYYY-NNNNNN-k`. */
  reference: string;
  hospitalId: string;
  treatmentPlan: TreatmentPlan;
  /** The approved amount, minor units (fen). */
  amount: number;
  actor: AuthUser;
};

/**
 * Plans the tranches of a grant at its final approval, and gives the INSERT the approval sends with its other writes
 * (ApprovalService), under the policy version behind the application's latest assessment.
 *
 * Writes no audit event and no ledger movement: the caller commits the amount and audits the approval (its summary
 * may list the references). Keeping AuditService out of here keeps the ledger's lock order the caller's to choose.
 */
@Injectable()
export class TrancheSchedulerService {
  /**
   * The tranches of a grant under `policy`, paid to `hospital` (read FOR SHARE by the caller, so its bank details
   * cannot change before the tranches are stored); refuses (TrancheScheduleException) what cannot be paid.
   */
  plan(input: ScheduleInput, hospital: HospitalPayee | null, policy: MeansPolicyVersion): TrancheRow[] {
    if (!TREATMENT_PLANS.includes(input.treatmentPlan)) throw new TrancheScheduleException(`Unknown treatment plan '${String(input.treatmentPlan)}'.`);
    if (!Number.isSafeInteger(input.amount) || input.amount < 1) throw new TrancheScheduleException('The approved amount must be a positive whole number of fen.');
    if (!hospital) throw new TrancheScheduleException('The application has no treating hospital to pay.');
    if (!hospital.bankName || !hospital.bankAccountName || !hospital.bankAccountNumber) {
      throw new TrancheScheduleException('The treating hospital has no complete bank account to pay into.');
    }
    const plan = policy.policy.tranches[input.treatmentPlan];
    if (!plan?.length || plan.length > MAX_TRANCHES) throw new TrancheScheduleException(`The means policy has no tranche split for ${input.treatmentPlan}.`);
    let amounts: number[];
    try {
      amounts = splitIntoTranches(input.amount, plan.map((t) => t.share));
    } catch (error) {
      if (error instanceof TrancheSplitError) throw new TrancheScheduleException(`The policy's tranche split for ${input.treatmentPlan} is unusable: ${error.message}`);
      throw error;
    }
    // A share so small that a tranche rounds to 0 fen: fold it into nothing rather than schedule an empty payment.
    const tranches = plan.map((t, i) => ({ label: t.label, amount: amounts[i] })).filter((t) => t.amount > 0);

    let references: string[];
    try {
      references = tranches.map((_, i) => trancheReference(input.reference, i + 1));
    } catch (error) {
      throw new TrancheScheduleException((error as Error).message);
    }
    return tranches.map((t, i) => ({
      applicationId: input.applicationId,
      hospitalId: hospital.id,
      trancheNumber: i + 1,
      trancheCount: tranches.length,
      label: t.label,
      reference: references[i],
      amount: t.amount,
      payeeBankName: hospital.bankName,
      payeeAccountName: hospital.bankAccountName,
      payeeAccountNumber: hospital.bankAccountNumber,
    }));
  }

  /** The INSERT of planned tranches (status scheduled, CNY, version 1); map its errors with trancheInsertError. */
  insertOf(rows: TrancheRow[]): SqlPart {
    const column = <K extends keyof TrancheRow>(key: K) => rows.map((r) => r[key]);
    return {
      sql: `INSERT INTO disbursements (application_id, hospital_id, tranche_number, tranche_count, label, reference, amount, currency, status,
                                       payee_bank_name, payee_account_name, payee_account_number, version)
            SELECT t.application_id, t.hospital_id, t.tranche_number, t.tranche_count, t.label, t.reference, t.amount, 'CNY', 'scheduled',
                   t.payee_bank_name, t.payee_account_name, t.payee_account_number, 1
              FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::int[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[])
                   WITH ORDINALITY AS t(application_id, hospital_id, tranche_number, tranche_count, label, reference, amount,
                                        payee_bank_name, payee_account_name, payee_account_number, n)
             ORDER BY t.n`,
      params: [
        column('applicationId'),
        column('hospitalId'),
        column('trancheNumber'),
        column('trancheCount'),
        column('label'),
        column('reference'),
        column('amount'),
        column('payeeBankName'),
        column('payeeAccountName'),
        column('payeeAccountNumber'),
      ],
    };
  }
}

/** The database's refusal of a second schedule for one application, as the scheduler's 409. */
export function trancheInsertError(error: unknown): unknown {
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code === '23505' && (constraint === 'disbursements_tranche_key' || constraint === 'disbursements_reference_key')) {
    return new TrancheScheduleException('This application already has scheduled tranches.');
  }
  return error;
}
