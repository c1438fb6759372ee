import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Application } from 'src/applications/application.entity';
import { AppConfig } from 'src/config/app-config';
import { Disbursement } from 'src/disbursements/disbursement.entity';
import { Hospital } from 'src/hospitals/hospital.entity';
import { OutboxService } from 'src/notifications/outbox.service';
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
    const hospital = await tx.getRepository(Hospital).findOneByOrFail({ id: d.hospitalId });
    const family = await tx.getRepository(User).findOneBy({ id: app.applicantId });
    if (family && !family.disabledAt) {
      await this.outbox.enqueue(tx, {
        event: 'disbursement.paid',
        template: 'tranche-paid',
        to: { email: family.email, userId: family.id, locale: family.locale },
        context: {
          fullName: family.fullName,
          reference: app.reference,
          trancheReference: d.reference,
          amount: d.amount,
          paidOn: payment.paidOn,
          hospitalName: hospital.name,
          applicationUrl: this.url(`applications/${app.id}`),
        },
      });
    }
    for (const user of await hospitalFinanceUsers(tx, d.hospitalId)) {
      await this.outbox.enqueue(tx, {
        event: 'disbursement.paid',
        template: 'tranche-paid-hospital',
        to: { email: user.email, userId: user.id, locale: user.locale },
        context: {
          fullName: user.fullName,
          hospitalName: hospital.name,
          trancheReference: d.reference,
          amount: d.amount,
          paidOn: payment.paidOn,
          bankReference: payment.bankReference,
        },
      });
    }
  }

  url(path: string): string {
    return `${this.config.env.APP_PUBLIC_URL.replace(/\/$/, '')}/${path}`;
  }
}

/** The hospital's finance office: active hospital_finance users bound to it. */
export function hospitalFinanceUsers(tx: EntityManager, hospitalId: string): Promise<User[]> {
  return tx
    .getRepository(User)
    .createQueryBuilder('u')
    .where(`u.role = 'hospital_finance' AND u.hospital_id = :hospitalId AND u.disabled_at IS NULL`, { hospitalId })
    .orderBy('u.created_at', 'ASC')
    .getMany();
}
