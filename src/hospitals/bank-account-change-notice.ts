import { EntityManager } from 'typeorm';
import { fundFinanceUsers, hospitalFinanceUsers } from 'src/disbursements/disbursement-notifications';
import { HospitalDto } from 'src/hospitals/dto/hospital.dto';
import { Hospital } from 'src/hospitals/hospital.entity';
import { OutboxService } from 'src/notifications/outbox.service';
import { accountEnding } from 'src/reconciliation/statement-account';

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
  for (const user of [...(await hospitalFinanceUsers(tx, hospital.id)), ...(await fundFinanceUsers(tx))]) {
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
        previousAccountName: previous.accountName,
        previousAccountEnding: accountEnding(previous.accountNumber),
        bankName: hospital.bankName,
        accountName: hospital.bankAccountName,
        accountEnding: accountEnding(hospital.bankAccountNumber),
      },
    });
  }
}
