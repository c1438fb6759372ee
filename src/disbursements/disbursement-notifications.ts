import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Application } from 'src/applications/application.entity';
import { AppConfig } from 'src/config/app-config';
import { Disbursement } from 'src/disbursements/disbursement.entity';
import { Hospital } from 'src/hospitals/hospital.entity';
import { OutboxService, Recipient } from 'src/notifications/outbox.service';
import type { TemplateContexts } from 'src/notifications/templates/template-contexts';
import { User } from 'src/users/user.entity';

/** Outbox rows caused by disbursements; written in the caller's transaction. */
@Injectable()
export class DisbursementNotifications {
  constructor(
    private readonly outbox: OutboxService,
    private readonly config: AppConfig,
  ) {}

  /** tranche-paid to the family; tranche-paid-hospital to each active finance user of the hospital (nothing about the family). */
  async tranchePaid(tx: EntityManager, app: Application, d: Disbursement, payment: { paidOn: string; bankReference: string }): Promise<void> {
    const hospital = await hospitalOf(tx, d.hospitalId);
    const family = await activeFamily(tx, app);
    if (family) {
      await this.outbox.enqueue(tx, {
        event: 'disbursement.paid',
        template: 'tranche-paid',
        to: recipient(family),
        context: Object.assign(this.familyContext(family, app, hospital), { trancheReference: d.reference, amount: d.amount, paidOn: payment.paidOn }),
      });
    }
    await this.toFinanceOffice(tx, hospital, 'disbursement.paid', 'tranche-paid-hospital', {
      trancheReference: d.reference,
      amount: d.amount,
      paidOn: payment.paidOn,
      bankReference: payment.bankReference,
    });
  }

  /**
   * The whole grant is cancelled: grant-cancelled to the family (what reached the hospital, what no longer will,
   * and why); tranche-cancelled-hospital to each active finance user of each hospital that loses a scheduled
   * payment (nothing when no unpaid tranche was left). `cancelled` are the tranches this cancellation cancelled.
   */
  async grantCancelled(
    tx: EntityManager,
    app: Application,
    cancellation: { tranches: Disbursement[]; cancelled: Disbursement[]; paidAmount: number; cancelledAmount: number; reason: string },
  ): Promise<void> {
    const family = await activeFamily(tx, app);
    if (family) {
      // The hospital the grant pays (its tranches'); an approved application always has one.
      const hospitalId = cancellation.tranches.at(-1)?.hospitalId ?? app.hospitalId;
      if (!hospitalId) throw new Error(`grant ${app.id} has no hospital`);
      const { paidAmount, cancelledAmount, reason } = cancellation;
      await this.outbox.enqueue(tx, {
        event: 'application.cancelled',
        template: 'grant-cancelled',
        to: recipient(family),
        context: Object.assign(this.familyContext(family, app, await hospitalOf(tx, hospitalId)), { paidAmount, cancelledAmount, reason }),
      });
    }
    for (const hospitalId of new Set(cancellation.cancelled.map((d) => d.hospitalId))) {
      const lost = cancellation.cancelled.filter((d) => d.hospitalId === hospitalId);
      await this.hospitalTranchesCancelled(tx, 'application.cancelled', await hospitalOf(tx, hospitalId), lost);
    }
  }

  /**
   * One scheduled tranche is cancelled, the grant goes on: tranche-cancelled to the family, so that a payment
   * they may be counting on does not silently disappear; tranche-cancelled-hospital to the hospital's finance users.
   */
  async trancheCancelled(tx: EntityManager, app: Application, d: Disbursement, reason: string): Promise<void> {
    const hospital = await hospitalOf(tx, d.hospitalId);
    const family = await activeFamily(tx, app);
    if (family) {
      await this.outbox.enqueue(tx, {
        event: 'disbursement.cancelled',
        template: 'tranche-cancelled',
        to: recipient(family),
        context: Object.assign(this.familyContext(family, app, hospital), { trancheReference: d.reference, amount: d.amount, reason }),
      });
    }
    await this.hospitalTranchesCancelled(tx, 'disbursement.cancelled', hospital, [d]);
  }

  /**
   * The bank sent a payment back: tranche-returned to the family, who were told it was paid (without the reason: it is
   * about the hospital's account); tranche-returned-hospital, with the reason, to the hospital's finance users, who may
   * have to send the fund correct account details. `payAgain` is false when the grant was cancelled meanwhile.
   */
  async trancheReturned(
    tx: EntityManager,
    app: Application,
    d: Disbursement,
    payment: { paidOn: string; bankReference: string; returnedOn: string; reason: string },
    payAgain: boolean,
  ): Promise<void> {
    const hospital = await hospitalOf(tx, d.hospitalId);
    const { paidOn, returnedOn } = payment;
    const family = await activeFamily(tx, app);
    if (family) {
      await this.outbox.enqueue(tx, {
        event: 'disbursement.returned',
        template: 'tranche-returned',
        to: recipient(family),
        context: Object.assign(this.familyContext(family, app, hospital), { trancheReference: d.reference, amount: d.amount, paidOn, returnedOn, payAgain }),
      });
    }
    await this.toFinanceOffice(tx, hospital, 'disbursement.returned', 'tranche-returned-hospital', {
      trancheReference: d.reference,
      amount: d.amount,
      ...payment,
      payAgain,
    });
  }

  /** The payments that will not come, by reference and amount; not the reason (it is written for the family). */
  private async hospitalTranchesCancelled(tx: EntityManager, event: string, hospital: Hospital, tranches: Disbursement[]): Promise<void> {
    if (tranches.length === 0) return;
    const total = tranches.reduce((sum, d) => sum + d.amount, 0);
    await this.toFinanceOffice(tx, hospital, event, 'tranche-cancelled-hospital', {
      count: tranches.length,
      total,
      tranches: tranches.map((d) => ({ trancheReference: d.reference, amount: d.amount })),
    });
  }

  /**
   * One email of `template` to each of the hospital's finance users, addressed by name and carrying the hospital (an
   * email for a hospital goes only to someone still serving it when it is sent).
   */
  private async toFinanceOffice<N extends 'tranche-paid-hospital' | 'tranche-returned-hospital' | 'tranche-cancelled-hospital'>(
    tx: EntityManager,
    hospital: Hospital,
    event: string,
    template: N,
    context: Omit<TemplateContexts[N], 'fullName' | 'hospitalName' | 'hospitalId'>,
  ): Promise<void> {
    for (const user of await hospitalFinanceUsers(tx, hospital.id)) {
      await this.outbox.enqueue(tx, {
        event,
        template,
        to: recipient(user),
        // TypeScript cannot see that the three fields put back what Omit took out of a generic context.
        context: { fullName: user.fullName, hospitalName: hospital.name, hospitalId: hospital.id, ...context } as TemplateContexts[N],
      });
    }
  }

  /** What every email to the family about its grant starts with. */
  private familyContext(family: User, app: Application, hospital: Hospital) {
    return { fullName: family.fullName, reference: app.reference, hospitalName: hospital.name, applicationUrl: this.config.publicUrl(`/applications/${app.id}`) };
  }
}

/**
 * The hospital's finance office: active hospital_finance users bound to it who have accepted their invitation (set a
 * password through the link mailed to them): an address an admin typed and no one has proven gets no payment notices.
 */
export function hospitalFinanceUsers(tx: EntityManager, hospitalId: string): Promise<User[]> {
  return tx
    .getRepository(User)
    .createQueryBuilder('u')
    .where(`u.role = 'hospital_finance' AND u.hospital_id = :hospitalId AND u.disabled_at IS NULL AND u.password_hash IS NOT NULL`, { hospitalId })
    .orderBy('u.created_at', 'ASC')
    .getMany();
}

/** Fund finance: its active users who have set a password (as hospitalFinanceUsers), oldest first. */
export function fundFinanceUsers(tx: EntityManager): Promise<User[]> {
  return tx
    .getRepository(User)
    .createQueryBuilder('u')
    .where(`u.role = 'fund_finance' AND u.disabled_at IS NULL AND u.password_hash IS NOT NULL`)
    .orderBy('u.created_at', 'ASC')
    .getMany();
}

/** The applicant, unless the account is disabled (a disabled family gets no email). */
async function activeFamily(tx: EntityManager, app: Application): Promise<User | null> {
  const family = await tx.getRepository(User).findOneBy({ id: app.applicantId });
  return family && !family.disabledAt ? family : null;
}

function hospitalOf(tx: EntityManager, id: string): Promise<Hospital> {
  return tx.getRepository(Hospital).findOneByOrFail({ id });
}

function recipient(user: User): Recipient {
  return { email: user.email, userId: user.id, locale: user.locale };
}
