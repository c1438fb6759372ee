import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ApplicationRecords } from 'src/applications/application-records';
import { Application } from 'src/applications/application.entity';
import { AssessmentService } from 'src/assessment/assessment.service';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { ConflictException, InvalidInputException } from 'src/common/problem/problem.exception';
import { TrancheSchedulerService } from 'src/disbursements/tranche-scheduler.service';
import { FundLedgerService } from 'src/fund/fund-ledger.service';
import { InsufficientFundsException } from 'src/fund/fund.exceptions';
import { OutboxService } from 'src/notifications/outbox.service';
import { DecisionKind } from 'src/review/decision.entity';
import { ApproveDto, ReviewResultDto } from 'src/review/dto/review-actions.dto';
import { ReviewDecisions } from 'src/review/review-decisions';
import { ApprovalAmountMismatchException, SameApproverException } from 'src/review/review.exceptions';
import { ReviewGate } from 'src/review/review-gate';

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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gate: ReviewGate,
    private readonly records: ApplicationRecords,
    private readonly decisions: ReviewDecisions,
    private readonly assessments: AssessmentService,
    private readonly ledger: FundLedgerService,
    private readonly tranches: TrancheSchedulerService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
  ) {}

  async approve(user: AuthUser, id: string, dto: ApproveDto, expectedVersion?: number): Promise<ReviewResultDto> {
    const facts = { amount: dto.amount, secondApprovalThreshold: this.gate.secondApprovalThreshold };
    return this.dataSource.transaction(async (tx) => {
      const { app, transition } = await this.gate.open(tx, user, id, 'approve', { expectedVersion, facts });
      const now = new Date();
      const final = transition.to === 'approved';
      let kind: DecisionKind;
      const commits = !transition.confirmsFirstApproval;
      if (transition.confirmsFirstApproval) {
        const first = await this.decisions.firstApproval(tx, app.id);
        if (!first) throw new ConflictException('four-eyes-violation', 'There is no first approval to confirm.');
        if (first.reviewerId === user.id) throw new SameApproverException();
        if (first.amount !== dto.amount) throw new ApprovalAmountMismatchException();
        kind = 'second_approval';
      } else {
        await this.assertWithinCap(tx, app, dto.amount);
        await this.refuseEarlyWhenShort(tx, dto.amount);
        kind = final ? 'approval' : 'first_approval';
      }
      const trancheReferences = final ? await this.scheduleTranches(tx, app, dto.amount, user) : [];
      const version = await this.records.guardedUpdate(tx, app, { status: transition.to, updatedAt: now });
      const decision = await this.decisions.record(tx, {
        applicationId: app.id,
        kind,
        reviewer: user,
        from: app.status,
        to: transition.to,
        amount: dto.amount,
        comment: dto.comment,
        at: now,
      });
      if (final) {
        const family = await this.gate.family(tx, app);
        await this.outbox.enqueue(tx, {
          event: 'application.approved',
          template: 'application-approved',
          to: family,
          context: { fullName: family.fullName, reference: app.reference, amount: dto.amount, applicationUrl: this.gate.applicationUrl(app.id) },
        });
      }
      // Last but the audit event: the fund's lock (every approval queues on it) is held only from here to COMMIT.
      // Insufficient funds rolls back everything above. Ledger before our own audit event (the ledger's lock order).
      if (commits) await this.ledger.commitForApproval(tx, { applicationId: app.id, amount: dto.amount, actor: user });
      await this.audit.record(tx, {
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
          ...(final ? { tranches: trancheReferences } : {}),
        },
      });
      return { id: app.id, reference: app.reference, status: transition.to, version, decisionId: decision.id, amount: dto.amount };
    });
  }

  /**
   * A lock-free read of the committed balance: if it is already short, refusing now is what the locked check would
   * say at this instant (only approvals take money out of `available`), without queueing on the fund's lock.
   * The authoritative check is commitForApproval's, under the lock.
   */
  private async refuseEarlyWhenShort(tx: EntityManager, amount: number): Promise<void> {
    const { available } = await this.ledger.balances(tx);
    if (available < amount) throw new InsufficientFundsException(amount, available);
  }

  private async assertWithinCap(tx: EntityManager, app: Application, amount: number): Promise<void> {
    const plan = app.medical.treatmentPlan;
    if (!plan) return; // a submitted application always has one; the scheduler refuses a final approval without it
    // Through `tx`, never a second pool connection while this transaction holds one (a pool-exhaustion deadlock).
    const [latest] = (await tx.query(
      `SELECT p.policy -> 'caps' ->> $2 AS cap FROM means_assessments a JOIN means_policies p ON p.version = a.policy_version
        WHERE a.application_id = $1 ORDER BY a.id DESC LIMIT 1`,
      [app.id, plan],
    )) as { cap: string | null }[];
    const cap = latest?.cap != null ? Number(latest.cap) : (await this.assessments.currentPolicy(tx)).policy.caps[plan];
    if (amount > cap) {
      throw new InvalidInputException([{ field: 'amount', message: `must not exceed the means policy's cap for ${plan}: ${cap} fen` }]);
    }
  }

  private async scheduleTranches(tx: EntityManager, app: Application, amount: number, user: AuthUser): Promise<string[]> {
    const treatmentPlan = app.medical.treatmentPlan;
    if (!app.hospitalId || !treatmentPlan) {
      throw new ConflictException('application-not-payable', 'The application names no treating hospital or treatment plan; tranches cannot be scheduled.');
    }
    const scheduled = await this.tranches.scheduleForApproval(tx, {
      applicationId: app.id,
      reference: app.reference,
      hospitalId: app.hospitalId,
      treatmentPlan,
      amount,
      actor: user,
    });
    return scheduled.map((d) => d.reference);
  }
}
