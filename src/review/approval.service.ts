import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ApplicationRecords } from 'src/applications/application-records';
import { Application } from 'src/applications/application.entity';
import { AssessmentService } from 'src/assessment/assessment.service';
import { AuditRecord, AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { IdempotencyService, IdempotentResult } from 'src/common/idempotency/idempotency.service';
import { ConflictException, InvalidInputException } from 'src/common/problem/problem.exception';
import { queryPrepared } from 'src/database/prepared-query';
import { SqlPart, writeTogether } from 'src/database/statement-parts';
import { HospitalPayee, ScheduleInput, trancheInsertError, TrancheSchedulerService } from 'src/disbursements/tranche-scheduler.service';
import { FundLedgerService } from 'src/fund/fund-ledger.service';
import { InsufficientFundsException } from 'src/fund/fund.exceptions';
import { ACCOUNTS } from 'src/fund/ledger-movements';
import { OutboxService } from 'src/notifications/outbox.service';
import { DecisionKind } from 'src/review/decision.entity';
import { ApproveDto, ReviewResultDto } from 'src/review/dto/review-actions.dto';
import { decisionError, ReviewDecisions } from 'src/review/review-decisions';
import { ApprovalAmountMismatchException, LinkedApproverException, SameApproverException } from 'src/review/review.exceptions';
import { ReviewGate } from 'src/review/review-gate';
import type { Locale } from 'src/users/user.entity';
import { linkedAccounts } from 'src/users/linked-accounts';

/**
 * Approvals, with the four-eyes rule for amounts at or above SECOND_APPROVAL_THRESHOLD.
 *
 * Money: the FIRST approval (or the only one, below the threshold) commits the amount from the fund's available
 * balance, under the ledger's lock, in the same transaction as the status change; 409 insufficient-funds leaves
 * everything as it was. A grant waiting for its second reviewer thus keeps its money: approvals of other
 * applications meanwhile cannot spend it, and the second approval cannot fail for lack of funds. A rejection
 * instead of the second approval releases it. The FINAL approval schedules the tranches and emails the family.
 *
 * Amount: any whole number of fen from 1 up to the means policy's cap for the treatment plan (the cap of the
 * policy version that produced the latest assessment). The recommended amount is advice; the reviewer decides.
 */
@Injectable()
export class ApprovalService {
  constructor(
    private readonly gate: ReviewGate,
    private readonly records: ApplicationRecords,
    private readonly decisions: ReviewDecisions,
    private readonly assessments: AssessmentService,
    private readonly ledger: FundLedgerService,
    private readonly tranches: TrancheSchedulerService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    private readonly idempotency: IdempotencyService,
  ) {}

  /**
   * Round trips in the transaction: lock (with the conflict check), one read of every fact the checks need, the
   * writes (tranches, status, decision, email, and the fund's lock with the movement and the audit events) as one
   * statement, COMMIT. With an Idempotency-Key, a repeat of the request replays the first answer (IdempotencyService).
   */
  async approve(user: AuthUser, id: string, dto: ApproveDto, expectedVersion?: number, key?: string): Promise<IdempotentResult<ReviewResultDto>> {
    const facts = { amount: dto.amount, secondApprovalThreshold: this.gate.secondApprovalThreshold };
    const request = { key, principal: user.id, operation: `POST /applications/${id}/approve`, payload: { ...dto, expectedVersion } };
    return this.ledger.refusalsMapped(() => this.idempotency.execute(request, 200, async (tx) => {
      const { app, transition } = await this.gate.open(tx, user, id, 'approve', { expectedVersion, facts });
      const now = new Date();
      const final = transition.to === 'approved';
      const commits = !transition.confirmsFirstApproval;
      const found = await this.factsOf(tx, app, final);
      let kind: DecisionKind;
      if (transition.confirmsFirstApproval) {
        const first = found.first_approval;
        if (!first) throw new ConflictException('four-eyes-violation', 'There is no first approval to confirm.');
        if (first.reviewer_id === user.id) throw new SameApproverException();
        if (await linkedAccounts(tx, first.reviewer_id, user.id)) throw new LinkedApproverException();
        if (Number(first.amount) !== dto.amount) throw new ApprovalAmountMismatchException();
        kind = 'second_approval';
      } else {
        await this.assertWithinCap(tx, app, dto.amount, found);
        // A lock-free read of the committed balance: if it is already short, refusing now is what the locked check
        // would say at this instant (only approvals take money out of `available`), without queueing on the fund's
        // lock. The authoritative check is commitForApproval's, under the lock at COMMIT.
        const available = Number(found.available ?? 0);
        if (available < dto.amount) throw new InsufficientFundsException(dto.amount, available);
        kind = final ? 'approval' : 'first_approval';
      }
      const tranches = final ? this.tranches.plan(this.scheduleInput(app, dto.amount, user), found.payee, await this.assessments.policyOf(tx, policyOf(found))) : [];
      const { decision, insert: decisionInsert } = this.decisions.insertOf({
        applicationId: app.id,
        kind,
        reviewer: user,
        from: app.status,
        to: transition.to,
        amount: dto.amount,
        comment: dto.comment,
        at: now,
      });
      const version = app.version + 1;
      const event: AuditRecord = {
        actor: user,
        action: final ? 'application.approved' : 'application.first_approval',
        objectType: 'application',
        objectId: app.id,
        summary: {
          from: app.status,
          to: transition.to,
          version,
          amount: dto.amount,
          decisionId: decision.id,
          policyVersion: found.policy_version,
          ...(final ? { tranches: tranches.map((t) => t.reference) } : {}),
        },
      };
      const parts: SqlPart[] = [this.records.guardedUpdateOf(app, { status: transition.to, updated_at: now }), decisionInsert];
      if (final) {
        parts.push(this.tranches.insertOf(tranches));
      }
      if (final && !found.family_disabled) {
        parts.push(
          this.outbox.insertOf({
            event: 'application.approved',
            template: 'application-approved',
            to: { email: found.email, userId: app.applicantId, locale: found.locale },
            context: { fullName: found.full_name, reference: app.reference, amount: dto.amount, applicationUrl: this.gate.applicationUrl(app.id) },
          }),
        );
      }
      // Without a movement, the audit event goes with the other rows, in one statement. With one, the rows go in the
      // movement's statement, which queues the commitment and writes the movement's audit event before this one; the
      // fund's lock (every approval queues on it) is taken at COMMIT only. Insufficient funds there rolls back
      // everything, and ledger.refusalsMapped turns it into the 409.
      let updated: number;
      try {
        if (commits) {
          ({ alongsideRows: updated } = await this.ledger.commitForApproval(tx, { applicationId: app.id, amount: dto.amount, actor: user }, [event], parts));
        } else {
          [{ updated }] = await writeTogether<{ updated: number }>(tx, [...parts, this.audit.pendingOf([event])], 'SELECT count(*)::int AS updated FROM w0');
        }
      } catch (error) {
        throw trancheInsertError(decisionError(error));
      }
      await this.records.assertGuarded(tx, app, updated);
      return { id: app.id, reference: app.reference, status: transition.to, version, decisionId: decision.id, amount: dto.amount };
    }));
  }

  /**
   * Everything the approval's checks and writes read, in one query: the first approval (four-eyes), the fund's
   * available balance, the family (the email), for a final approval the hospital's bank account (FOR SHARE: it cannot
   * change before the tranches are stored), and the policy of the latest assessment — the one the reviewer read —
   * whose cap bounds the amount and whose split plans the tranches (the current one if there is no assessment).
   */
  private async factsOf(tx: EntityManager, app: Application, final: boolean): Promise<ApprovalFacts> {
    const [found] = (await queryPrepared(tx, 
      `SELECT u.email, u.full_name, u.locale, u.disabled_at IS NOT NULL AS family_disabled,
              (SELECT json_build_object('reviewer_id', d.reviewer_id, 'amount', d.amount::text) FROM decisions d
                WHERE d.application_id = $2 AND d.kind = 'first_approval') AS first_approval,
              policy.policy -> 'caps' ->> $3 AS cap,
              (SELECT balance::text FROM ledger_accounts WHERE code = $4) AS available,
              CASE WHEN h.id IS NULL THEN NULL ELSE json_build_object('id', h.id, 'bankName', h.bank_name, 'bankAccountName', h.bank_account_name,
                                                                       'bankAccountNumber', h.bank_account_number) END AS payee,
              policy.version AS policy_version, policy.created_at AS policy_created_at
         FROM users u
         LEFT JOIN (SELECT id, bank_name, bank_account_name, bank_account_number FROM hospitals WHERE id = $5 AND $6::boolean FOR SHARE) h ON true
         LEFT JOIN LATERAL (
           (SELECT p.version, p.created_at, p.policy FROM means_assessments a JOIN means_policies p ON p.version = a.policy_version
             WHERE a.application_id = $2 ORDER BY a.id DESC LIMIT 1)
           UNION ALL
           (SELECT version, created_at, policy FROM means_policies ORDER BY version DESC LIMIT 1)
           LIMIT 1) policy ON true
        WHERE u.id = $1`,
      [app.applicantId, app.id, app.medical.treatmentPlan ?? null, ACCOUNTS.available, app.hospitalId, final],
    )) as ApprovalFacts[];
    return found;
  }

  private async assertWithinCap(tx: EntityManager, app: Application, amount: number, found: ApprovalFacts): Promise<void> {
    const plan = app.medical.treatmentPlan;
    if (!plan) return; // a submitted application always has one; the scheduler refuses a final approval without it
    const cap = found.cap != null ? Number(found.cap) : (await this.assessments.currentPolicy(tx)).policy.caps[plan];
    if (amount > cap) {
      throw new InvalidInputException([{ field: 'amount', message: `must not exceed the means policy's cap for ${plan}: ${cap} fen` }]);
    }
  }

  private scheduleInput(app: Application, amount: number, user: AuthUser): ScheduleInput {
    const treatmentPlan = app.medical.treatmentPlan;
    if (!app.hospitalId || !treatmentPlan) {
      throw new ConflictException('application-not-payable', 'The application names no treating hospital or treatment plan; tranches cannot be scheduled.');
    }
    return { applicationId: app.id, reference: app.reference, hospitalId: app.hospitalId, treatmentPlan, amount, actor: user };
  }
}

type ApprovalFacts = {
  email: string;
  full_name: string;
  locale: Locale;
  /** A disabled family account gets no email (the worker would mark it dead: clutter in the admin's dead list). */
  family_disabled: boolean;
  first_approval: { reviewer_id: string; amount: string } | null;
  cap: string | null;
  available: string | null;
  payee: HospitalPayee | null;
  policy_version: number | null;
  policy_created_at: Date | null;
};

/** The policy factsOf found (the latest assessment's), as AssessmentService.policyOf takes it. */
function policyOf(found: ApprovalFacts): { version: number; createdAt: Date } | null {
  return found.policy_version === null ? null : { version: found.policy_version, createdAt: found.policy_created_at! };
}
