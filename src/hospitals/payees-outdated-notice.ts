import { EntityManager } from 'typeorm';
import { Hospital } from 'src/hospitals/hospital.entity';
import { OutboxService } from 'src/notifications/outbox.service';
import { User } from 'src/users/user.entity';

/** Tranches named in the email; the rest are counted (a national center may have hundreds scheduled). */
const LISTED = 50;

/**
 * Tells fund finance — the only role that moves a tranche to the new account (repoint) — that a hospital's account
 * changed while tranches were scheduled to the previous one: payment files leave those out, and without a word a
 * child's payment would wait until someone read a header. Written in the edit's transaction.
 */
export async function noticePayeesOutdated(tx: EntityManager, outbox: OutboxService, hospital: Hospital): Promise<void> {
  const tranches = (await tx.query(
    `SELECT reference, amount::text AS amount, count(*) OVER ()::int AS count, sum(amount) OVER ()::text AS total
       FROM disbursements
      WHERE hospital_id = $1 AND status = 'scheduled' AND (payee_bank_name, payee_account_name, payee_account_number) IS DISTINCT FROM ($2, $3, $4)
      ORDER BY created_at, tranche_number
      LIMIT ${LISTED}`,
    [hospital.id, hospital.bankName, hospital.bankAccountName, hospital.bankAccountNumber],
  )) as { reference: string; amount: string; count: number; total: string }[];
  if (tranches.length === 0) return;
  const [{ count, total }] = tranches;
  const recipients = await tx
    .getRepository(User)
    .createQueryBuilder('u')
    .where(`u.role = 'fund_finance' AND u.disabled_at IS NULL AND u.password_hash IS NOT NULL`)
    .orderBy('u.created_at', 'ASC')
    .getMany();
  for (const user of recipients) {
    await outbox.enqueue(tx, {
      event: 'hospital.payees_outdated',
      template: 'payees-outdated',
      to: { email: user.email, userId: user.id, locale: user.locale },
      context: {
        fullName: user.fullName,
        hospitalName: hospital.name,
        count,
        total,
        tranches: tranches.map((t) => ({ trancheReference: t.reference, amount: t.amount })),
        more: count - tranches.length,
      },
    });
  }
}
