import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccountCode, ACCOUNT_CODES, Balances, FundSummary, fundSummary, ZERO_BALANCES } from 'src/fund/ledger-movements';

export type AccountCheck = { code: string; balance: number; entriesTotal: number; ok: boolean };
export type UnbalancedTransaction = { id: string; entries: number; total: number };
export type GrantMismatch = { applicationId: string; account: string; balance: number; entriesTotal: number };

export type LedgerVerification = {
  ok: boolean;
  checkedAt: string;
  journalTransactions: number;
  entries: number;
  accounts: AccountCheck[];
  unbalancedTransactions: UnbalancedTransaction[];
  grantMismatches: GrantMismatch[];
  /** The fund as the entries themselves say it is, and whether received = available + committed + disbursed. */
  fromEntries: FundSummary & { identityHolds: boolean; nonNegative: boolean };
};

const REPORT_LIMIT = 50;

/**
 * Recomputes everything the cached balances claim from the append-only entries, in one snapshot:
 * every journal transaction balances, every account's cached balance equals the sum of its entries,
 * every grant's cached balance equals the sum of its entries, and the fund identity holds.
 */
@Injectable()
export class LedgerVerificationService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  verify(): Promise<LedgerVerification> {
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      const [counts] = (await tx.query(
        `SELECT (SELECT count(*) FROM journal_transactions)::text AS transactions, (SELECT count(*) FROM ledger_entries)::text AS entries`,
      )) as { transactions: string; entries: string }[];

      const accountRows = (await tx.query(`
        SELECT a.code, a.balance::text AS balance, coalesce(s.total, 0)::text AS "entriesTotal"
          FROM ledger_accounts a
          LEFT JOIN (SELECT account_code, sum(amount) AS total FROM ledger_entries GROUP BY account_code) s ON s.account_code = a.code
         ORDER BY a.code`)) as { code: string; balance: string; entriesTotal: string }[];
      const accounts = accountRows.map((r) => ({ code: r.code, balance: Number(r.balance), entriesTotal: Number(r.entriesTotal), ok: r.balance === r.entriesTotal }));

      const unbalanced = (await tx.query(
        `SELECT t.id::text AS id, count(e.id)::int AS entries, coalesce(sum(e.amount), 0)::text AS total
           FROM journal_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id
          GROUP BY t.id HAVING count(e.id) < 2 OR coalesce(sum(e.amount), 0) <> 0
          ORDER BY t.id LIMIT $1`,
        [REPORT_LIMIT],
      )) as { id: string; entries: number; total: string }[];

      // Entries without a grant on a per-grant account count as a mismatch too (application_id NULL).
      const grants = (await tx.query(
        `SELECT coalesce(g.application_id, s.application_id) AS "applicationId", coalesce(g.account_code, s.account_code) AS account,
                coalesce(g.balance, 0)::text AS balance, coalesce(s.total, 0)::text AS "entriesTotal"
           FROM ledger_grant_balances g
           FULL JOIN (SELECT e.application_id, e.account_code, sum(e.amount) AS total
                        FROM ledger_entries e JOIN ledger_accounts a ON a.code = e.account_code AND a.per_grant
                       GROUP BY e.application_id, e.account_code) s
             ON s.application_id = g.application_id AND s.account_code = g.account_code
          WHERE s.application_id IS NULL AND s.account_code IS NOT NULL OR coalesce(g.balance, 0) <> coalesce(s.total, 0)
          LIMIT $1`,
        [REPORT_LIMIT],
      )) as { applicationId: string | null; account: string; balance: string; entriesTotal: string }[];

      const fromEntries = fundSummary(entriesBalances(accounts));
      // In bigint, from the sums as the database gave them: a check must not round (past 2^53 fen, doubles would hide a fen).
      const exact = (code: AccountCode) => BigInt(accountRows.find((r) => r.code === code)?.entriesTotal ?? '0');
      const [received, available, committed, disbursed] = [-exact('donations'), exact('fund:available'), exact('fund:committed'), exact('fund:disbursed')];
      const identityHolds = received === available + committed + disbursed;
      const nonNegative = available >= 0n && committed >= 0n && disbursed >= 0n;
      const result: LedgerVerification = {
        ok: false,
        checkedAt: new Date().toISOString(),
        journalTransactions: Number(counts.transactions),
        entries: Number(counts.entries),
        accounts,
        unbalancedTransactions: unbalanced.map((r) => ({ id: r.id, entries: r.entries, total: Number(r.total) })),
        grantMismatches: grants.map((r) => ({
          applicationId: r.applicationId ?? '(none)',
          account: r.account,
          balance: Number(r.balance),
          entriesTotal: Number(r.entriesTotal),
        })),
        fromEntries: { ...fromEntries, identityHolds, nonNegative },
      };
      result.ok = accounts.every((a) => a.ok) && !unbalanced.length && !grants.length && identityHolds && nonNegative;
      return result;
    });
  }
}

function entriesBalances(accounts: AccountCheck[]): Balances {
  const balances = { ...ZERO_BALANCES };
  for (const a of accounts) if ((ACCOUNT_CODES as readonly string[]).includes(a.code)) balances[a.code as AccountCode] = a.entriesTotal;
  return balances;
}
