import { EntityManager } from 'typeorm';
import { StatementAccountMismatchException } from 'src/reconciliation/reconciliation.exceptions';

/** Account numbers as banks write them, compared without spaces or hyphens and in capitals. */
export function normalizedAccount(account: string): string {
  return account.replace(/[\s-]/g, '').toUpperCase();
}

/** normalizedAccount() in SQL. */
export const NORMALIZED = (column: string) => `regexp_replace(upper(${column}), '[[:space:]-]', '', 'g')`;

/** A statement of the file for an account that is not the hospital's: not imported. */
export type StatementLeftOut = { accountEnding: string; entries: number };

/** The last four characters of an account number: enough to tell two accounts apart, not enough to pay into one. */
export const accountEnding = (account: string): string => normalizedAccount(account).slice(-4);
const MAX_ACCOUNTS_LISTED = 100;

/**
 * Which statements of a file belong to the hospital it is filed under, by the accounts they name: the hospital's
 * account on record, or one an earlier tranche was paid into (the account changed since). A file filed under the wrong
 * hospital would show that hospital's finance office another's transfers, and let its credits be matched by hand to the
 * wrong tranches. A statement naming no account (the CSV format) is taken as the uploader says. In a file of several
 * (a bank's export of accounts together), the statements of other accounts are left out, their entries not imported;
 * a file none of whose statements is the hospital's is refused.
 */
export class StatementAccounts {
  private readonly ours = new Map<string, boolean>();
  private onRecord: string | null = null;
  private firstNamed: string | null = null;
  private anyOurs = false;
  private current: StatementLeftOut | null = null;
  readonly leftOut: StatementLeftOut[] = [];
  private readonly leftOutByAccount = new Map<string, StatementLeftOut>();

  constructor(
    private readonly manager: EntityManager,
    private readonly hospitalId: string,
  ) {}

  /** Called at each statement's header: whether the entries that follow are the hospital's (to be imported). */
  async belongs(account: string | undefined): Promise<boolean> {
    this.current = null;
    if (!account?.trim()) return true;
    this.firstNamed ??= account;
    const key = normalizedAccount(account);
    let ours = this.ours.get(key);
    if (ours === undefined) {
      const [found] = (await this.manager.query(
        `SELECT h.bank_account_number AS on_record,
                ${NORMALIZED('h.bank_account_number')} = $2
                  OR EXISTS (SELECT 1 FROM disbursements d WHERE d.hospital_id = h.id AND ${NORMALIZED('d.payee_account_number')} = $2) AS ours
           FROM hospitals h WHERE h.id = $1`,
        [this.hospitalId, key],
      )) as { on_record: string | null; ours: boolean }[];
      ours = found?.ours === true;
      this.onRecord = found?.on_record ?? null;
      this.ours.set(key, ours);
    }
    if (ours) {
      this.anyOurs = true;
      return true;
    }
    // One line per account, and a bounded list: a file of many small foreign statements must not grow the answer and
    // the audit event without limit (their entries are still counted in the accounts listed, or not at all past them).
    let left = this.leftOutByAccount.get(key);
    if (!left && this.leftOut.length < MAX_ACCOUNTS_LISTED) {
      left = { accountEnding: accountEnding(account), entries: 0 };
      this.leftOutByAccount.set(key, left);
      this.leftOut.push(left);
    }
    this.current = left ?? null;
    return false;
  }

  /** Counts an entry of a statement left out. */
  leaveOut(): void {
    if (this.current) this.current.entries++;
  }

  /** Refuses (422) a file whose statements name accounts, none of them the hospital's. */
  refuseIfNotTheHospitals(): void {
    if (!this.firstNamed || this.anyOurs) return;
    throw new StatementAccountMismatchException(accountEnding(this.firstNamed), this.onRecord && accountEnding(this.onRecord));
  }
}
