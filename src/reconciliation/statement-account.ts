import { EntityManager } from 'typeorm';
import { StatementAccountMismatchException } from 'src/reconciliation/reconciliation.exceptions';

/** Account numbers as banks write them, compared without spaces or hyphens and in capitals. */
export function normalizedAccount(account: string): string {
  return account.replace(/[\s-]/g, '').toUpperCase();
}

const NORMALIZED = (column: string) => `regexp_replace(upper(${column}), '[[:space:]-]', '', 'g')`;

/**
 * Whether a statement file belongs to the hospital it is filed under, by the accounts its statements name: the
 * hospital's account on record, or one an earlier tranche was paid into (the account changed since). A file filed
 * under the wrong hospital would show that hospital's finance office another's transfers, and let its credits be
 * matched by hand to the wrong tranches. A file naming no account (the CSV format) is taken as the uploader says; one
 * naming several (a bank's export of the hospital's accounts together) belongs when any of them is the hospital's.
 */
export class StatementAccounts {
  private readonly named: { account: string; ours: boolean; onRecord: string | null }[] = [];

  constructor(
    private readonly manager: EntityManager,
    private readonly hospitalId: string,
  ) {}

  /** Notes the account a statement of the file names (its header). */
  async add(account: string | undefined): Promise<void> {
    if (!account?.trim() || this.named.some((n) => n.ours)) return;
    const [found] = (await this.manager.query(
      `SELECT h.bank_account_number AS on_record,
              ${NORMALIZED('h.bank_account_number')} = $2
                OR EXISTS (SELECT 1 FROM disbursements d WHERE d.hospital_id = h.id AND ${NORMALIZED('d.payee_account_number')} = $2) AS ours
         FROM hospitals h WHERE h.id = $1`,
      [this.hospitalId, normalizedAccount(account)],
    )) as { on_record: string | null; ours: boolean }[];
    this.named.push({ account, ours: found?.ours === true, onRecord: found?.on_record ?? null });
  }

  /** Refuses (422) a file whose statements name accounts, none of them the hospital's. */
  refuseIfNotTheHospitals(): void {
    const [first] = this.named;
    if (!first || this.named.some((n) => n.ours)) return;
    const ending = (account: string) => normalizedAccount(account).slice(-4);
    throw new StatementAccountMismatchException(ending(first.account), first.onRecord && ending(first.onRecord));
  }
}
