import { EntityManager } from 'typeorm';
import { hospitalFinanceUsers } from 'src/disbursements/disbursement-notifications';
import { HospitalDto } from 'src/hospitals/dto/hospital.dto';
import { Hospital } from 'src/hospitals/hospital.entity';
import { OutboxService } from 'src/notifications/outbox.service';
import { User } from 'src/users/user.entity';

/** The last four characters of an account number: enough to tell two accounts apart, not enough to pay into one. */
export const accountEnding = (accountNumber: string): string => accountNumber.replace(/\s/g, '').slice(-4);

/**
 * Tells the hospital's finance office and fund finance that the account the fund pays the hospital into changed, in
 * the edit's transaction. Every later approval and reschedule pays into it without anyone at the hospital confirming:
 * the account's owner is the one who can tell a wrong or fraudulent change, and fund finance pays.
 */
export async function noticeBankAccountChanged(
  tx: EntityManager,
  outbox: OutboxService,
  hospital: Hospital,
  previous: HospitalDto['bankAccount'],
  changedAt: Date,
): Promise<void> {
  const fundFinance = await tx
    .getRepository(User)
    .createQueryBuilder('u')
    .where(`u.role = 'fund_finance' AND u.disabled_at IS NULL AND u.password_hash IS NOT NULL`)
    .orderBy('u.created_at', 'ASC')
    .getMany();
  for (const user of [...(await hospitalFinanceUsers(tx, hospital.id)), ...fundFinance]) {
    await outbox.enqueue(tx, {
      event: 'hospital.bank_account_changed',
      template: 'bank-account-changed',
      to: { email: user.email, userId: user.id, locale: user.locale },
      context: {
        fullName: user.fullName,
        hospitalName: hospital.name,
        hospitalId: hospital.id,
        changedAt: changedAt.toISOString(),
        previousBankName: previous.bankName,
        previousAccountEnding: accountEnding(previous.accountNumber),
        bankName: hospital.bankName,
        accountName: hospital.bankAccountName,
        accountEnding: accountEnding(hospital.bankAccountNumber),
      },
    });
  }
}
