import { EntityManager } from 'typeorm';
import { StatementAccountMismatchException } from 'src/reconciliation/reconciliation.exceptions';

/** Account numbers as banks write them, compared without spaces or hyphens and in capitals. */
export function normalizedAccount(account: string): string {
  return account.replace(/[\s-]/g, '').toUpperCase();
}

const NORMALIZED = (column: string) => `regexp_replace(upper(${column}), '[[:space:]-]', '', 'g')`;

/**
 * Refuses (422) a statement whose header names an account that is not the hospital's: neither its account on record
 * nor one an earlier tranche was paid into (the account changed since). A statement filed under the wrong hospital
 * would show that hospital's finance office another's transfers, and let its credits be matched by hand to the wrong
 * tranches. A statement without an account (the CSV format) is taken as the uploader says.
 */
export async function refuseOtherAccount(manager: EntityManager, hospitalId: string, account: string | undefined): Promise<void> {
  if (!account?.trim()) return;
  const [found] = (await manager.query(
    `SELECT h.bank_account_number AS on_record,
            ${NORMALIZED('h.bank_account_number')} = $2
              OR EXISTS (SELECT 1 FROM disbursements d WHERE d.hospital_id = h.id AND ${NORMALIZED('d.payee_account_number')} = $2) AS ours
       FROM hospitals h WHERE h.id = $1`,
    [hospitalId, normalizedAccount(account)],
  )) as { on_record: string | null; ours: boolean }[];
  if (found?.ours) return;
  throw new StatementAccountMismatchException(account, found?.on_record ?? null);
}
