import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AssessmentService } from 'src/assessment/assessment.service';
import { TREATMENT_PLANS, TreatmentPlan } from 'src/assessment/means-policy';
import { AuthUser } from 'src/common/auth/roles';
import { Disbursement } from 'src/disbursements/disbursement.entity';
import { TrancheScheduleException } from 'src/disbursements/disbursements.exceptions';
import { trancheReference, MAX_TRANCHES } from 'src/disbursements/tranche-reference';
import { splitIntoTranches, TrancheSplitError } from 'src/disbursements/tranche-split';
import { Hospital } from 'src/hospitals/hospital.entity';

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
 * Creates the tranches of a grant at its final approval, inside the approver's transaction.
 *
 * Writes no audit event and no ledger movement: the caller commits the amount (FundLedgerService.commitForApproval)
 * and audits the approval (its summary may list the returned references). Keeping AuditService out of here means
 * the caller may call this before or after its ledger call without breaking the ledger's lock order.
 */
@Injectable()
export class TrancheSchedulerService {
  constructor(private readonly assessments: AssessmentService) {}

  async scheduleForApproval(tx: EntityManager, input: ScheduleInput): Promise<Disbursement[]> {
    if (!TREATMENT_PLANS.includes(input.treatmentPlan)) throw new TrancheScheduleException(`Unknown treatment plan '${String(input.treatmentPlan)}'.`);
    if (!Number.isSafeInteger(input.amount) || input.amount < 1) throw new TrancheScheduleException('The approved amount must be a positive whole number of fen.');

    const hospital = await tx.getRepository(Hospital).findOne({ where: { id: input.hospitalId }, lock: { mode: 'pessimistic_read' } });
    if (!hospital) throw new TrancheScheduleException('The application has no treating hospital to pay.');
    if (!hospital.bankName || !hospital.bankAccountName || !hospital.bankAccountNumber) {
      throw new TrancheScheduleException('The treating hospital has no complete bank account to pay into.');
    }

    const policy = await this.assessments.currentPolicy(tx);
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
    const rows = tranches.map((t, i) => ({
      applicationId: input.applicationId,
      hospitalId: hospital.id,
      trancheNumber: i + 1,
      trancheCount: tranches.length,
      label: t.label,
      reference: references[i],
      amount: t.amount,
      currency: 'CNY',
      status: 'scheduled',
      payeeBankName: hospital.bankName,
      payeeAccountName: hospital.bankAccountName,
      payeeAccountNumber: hospital.bankAccountNumber,
      version: 1,
    }));
    try {
      await tx.insert(Disbursement, rows as QueryDeepPartialEntity<Disbursement>[]);
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code === '23505' && (constraint === 'disbursements_tranche_key' || constraint === 'disbursements_reference_key')) {
        throw new TrancheScheduleException('This application already has scheduled tranches.');
      }
      throw error;
    }
    return tx.getRepository(Disbursement).find({ where: { applicationId: input.applicationId }, order: { trancheNumber: 'ASC' } });
  }
}
