import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ApplicationRecords } from 'src/applications/application-records';
import { ApplicationAction, findTransition, mayTake, SYSTEM_ACTOR, TransitionActor } from 'src/applications/application-status';
import { Application } from 'src/applications/application.entity';
import { ApplicationNotFoundException } from 'src/applications/applications.exceptions';
import { AuditRecord, AuditService } from 'src/audit/audit.service';
import { Disbursement, DisbursementStatus } from 'src/disbursements/disbursement.entity';
import { DisbursementNotFoundException, DisbursementStatusConflictException } from 'src/disbursements/disbursements.exceptions';

/** A status change of the application, for the caller's audit event (written after its ledger call). */
export type StatusChange = { applicationId: string; action: ApplicationAction; from: string; to: string; version: number };

type TrancheTally = { tranches: number; reconciled: number; cancelled: number };

/**
 * Locks and the two system transitions of a grant (DESIGN.md lifecycle): the first paid tranche takes the
 * application from approved to disbursing; the last reconciled tranche from disbursing to completed.
 *
 * Lock order, the same in every money path of this module and of reconciliation: statement entry → application
 * → its disbursements (by tranche number) → the fund's accounts (FundLedgerService) → the audit chain.
 */
@Injectable()
export class GrantProgressService {
  constructor(
    private readonly records: ApplicationRecords,
    private readonly audit: AuditService,
  ) {}

  /** The application of a disbursement, for routes addressed by disbursement id. Not locked. */
  async applicationIdOf(manager: EntityManager, disbursementId: string): Promise<string> {
    const [row] = (await manager.query(`SELECT application_id FROM disbursements WHERE id = $1`, [disbursementId])) as { application_id: string }[];
    if (!row) throw new DisbursementNotFoundException();
    return row.application_id;
  }

  async lockApplication(tx: EntityManager, applicationId: string): Promise<Application> {
    const app = await tx.getRepository(Application).findOne({ where: { id: applicationId }, lock: { mode: 'pessimistic_write' } });
    if (!app) throw new ApplicationNotFoundException();
    return app;
  }

  async lockDisbursement(tx: EntityManager, id: string): Promise<Disbursement> {
    const d = await tx.getRepository(Disbursement).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!d) throw new DisbursementNotFoundException();
    return d;
  }

  async lockDisbursementsOf(tx: EntityManager, applicationId: string): Promise<Disbursement[]> {
    return tx
      .getRepository(Disbursement)
      .createQueryBuilder('d')
      .where('d.application_id = :applicationId', { applicationId })
      .orderBy('d.tranche_number', 'ASC')
      .setLock('pessimistic_write')
      .getMany();
  }

  /** approved → disbursing when a tranche was paid; nothing when the application is past that. */
  async afterPayment(tx: EntityManager, app: Application): Promise<StatusChange | null> {
    return app.status === 'approved' ? this.take(tx, app, 'start-disbursing') : null;
  }

  /**
   * disbursing → completed when no tranche is left to pay or reconcile: every tranche is reconciled or
   * cancelled, and at least one was reconciled. Call with the application locked, after this transaction's
   * own tranche changes.
   */
  async completeIfSettled(tx: EntityManager, app: Application): Promise<StatusChange | null> {
    if (app.status !== 'disbursing') return null;
    return this.settled(await this.tally(tx, app.id)) ? this.take(tx, app, 'complete') : null;
  }

  /**
   * After a tranche was cancelled: complete as completeIfSettled, or approved|disbursing → cancelled when every
   * tranche has been cancelled, one by one — nothing is left to pay or reconcile and nothing paid stayed paid, so the
   * grant is over without completing (it stayed approved or disbursing for good before). The cancellation is taken
   * by whoever cancelled the last tranche, through the transition table (fund finance or admin, as for cancelling the
   * grant). Call with the application locked, after this transaction's tranche changes.
   */
  async afterTrancheCancelled(tx: EntityManager, app: Application, actor: TransitionActor): Promise<StatusChange | null> {
    const tally = await this.tally(tx, app.id);
    if (app.status === 'disbursing' && this.settled(tally)) return this.take(tx, app, 'complete');
    return tally.tranches > 0 && tally.cancelled === tally.tranches ? this.take(tx, app, 'cancel', actor) : null;
  }

  /** Nothing left to pay or reconcile, and at least one tranche reconciled. */
  private settled(tally: TrancheTally): boolean {
    return tally.reconciled > 0 && tally.reconciled + tally.cancelled === tally.tranches;
  }

  private async tally(tx: EntityManager, applicationId: string): Promise<TrancheTally> {
    const [tally] = (await tx.query(
      `SELECT count(*)::int AS tranches, count(*) FILTER (WHERE status = 'reconciled')::int AS reconciled,
              count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled
         FROM disbursements WHERE application_id = $1`,
      [applicationId],
    )) as TrancheTally[];
    return tally;
  }

  private async take(tx: EntityManager, app: Application, action: ApplicationAction, actor: TransitionActor = SYSTEM_ACTOR): Promise<StatusChange | null> {
    const transition = findTransition(app.status, action);
    if (!transition || !mayTake(transition, actor)) return null;
    const version = await this.records.guardedUpdate(tx, app, { status: transition.to, updatedAt: new Date() });
    const change = { applicationId: app.id, action, from: app.status, to: transition.to, version };
    app.status = transition.to;
    app.version = version;
    return change;
  }

  /** A guarded status change of a locked tranche, bumping its version; 409 when it is no longer in `from`. */
  async moveDisbursement(tx: EntityManager, d: Disbursement, from: DisbursementStatus, values: QueryDeepPartialEntity<Disbursement>): Promise<void> {
    const result = await tx
      .createQueryBuilder()
      .update(Disbursement)
      .set({ ...values, version: () => 'version + 1', updatedAt: new Date() })
      .where('id = :id AND status = :from', { id: d.id, from })
      .execute();
    if (result.affected !== 1) throw new DisbursementStatusConflictException('changed', d.status);
  }

  /** The audit event of a system transition (call after any ledger movement of the transaction). */
  async recordStatusChange(tx: EntityManager, actor: AuditRecord['actor'], change: StatusChange | null): Promise<void> {
    if (!change) return;
    await this.audit.record(tx, {
      actor,
      action: `application.${change.to}`,
      objectType: 'application',
      objectId: change.applicationId,
      summary: { from: change.from, to: change.to, version: change.version, cause: change.action },
    });
  }
}
