import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditRecord, AuditService } from 'src/audit/audit.service';
import { slot } from 'src/audit/bulk-audit';
import { queryPrepared } from 'src/database/prepared-query';
import { SqlPart, writeTogether } from 'src/database/statement-parts';
import { AuthUser } from 'src/common/auth/roles';
import { ConflictException, InvalidInputException } from 'src/common/problem/problem.exception';
import { DuplicatePostingException, GrantBalanceException, InsufficientFundsException } from 'src/fund/fund.exceptions';
import {
  ACCOUNT_CODES,
  ACCOUNT_DEFINITIONS,
  ACCOUNTS,
  AccountCode,
  Balances,
  FundSummary,
  fundSummary,
  isValidAmount,
  MAX_MOVEMENT,
  MovementKind,
  MOVEMENTS,
  movementEntries,
  ZERO_BALANCES,
} from 'src/fund/ledger-movements';

/** Who moved the money; null for the system. */
export type LedgerActor = Pick<AuthUser, 'id' | 'role'> | null;

export type LedgerPosting = { journalTransactionId: string; kind: MovementKind; amount: number };

export type GrantLedgerBalance = { committed: number; disbursed: number };

type PostingInput = {
  kind: MovementKind;
  postingKey: string;
  amount: number;
  actor: LedgerActor;
  contributionId?: string;
  applicationId?: string;
  disbursementId?: string;
  audit: { action: string; objectType: string; objectId: string };
};

/**
 * The fund's double-entry ledger. Every method joins the caller's transaction (`tx`): the movement commits or
 * rolls back with the caller's status change. Each movement locks the fund's accounts (all of them, in code
 * order, held to the end of the transaction), checks the balance it draws from, writes one balanced journal
 * transaction and an audit event.
 *
 * Lock order: your own rows (application, disbursement) → the fund's accounts. The audit chain's lock comes last
 * by construction: the database takes it at COMMIT (migration AuditChainAtCommit), so `AuditService.record` may
 * come before or after ledger calls.
 */
@Injectable()
export class FundLedgerService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** donations → available, once per contribution. */
  async recordContribution(tx: EntityManager, input: { contributionId: string; amount: number; actor: LedgerActor }): Promise<LedgerPosting> {
    await this.lockAccounts(tx, input.amount);
    return this.post(tx, {
      kind: 'contribution',
      postingKey: `contribution:${input.contributionId}`,
      amount: input.amount,
      actor: input.actor,
      contributionId: input.contributionId,
      audit: { action: 'fund.contribution_recorded', objectType: 'contribution', objectId: input.contributionId },
    });
  }

  /**
   * available → committed, once per application. The fund's accounts are locked (FOR UPDATE, all of them in code
   * order, as every movement does) by the posting statement itself, which posts only if `fund:available` covers the
   * amount under that lock: one round trip under the fund's lock instead of two. The locks are held to the end of the
   * caller's transaction, so concurrent approvals queue on them and each sees what the previous one left; the
   * accounts' balance CHECK stays the last word.
   * @throws InsufficientFundsException (409 insufficient-funds) when available < amount
   * @throws DuplicatePostingException (409) when this application already has a commitment
   */
  async commitForApproval(
    tx: EntityManager,
    input: { applicationId: string; amount: number; actor: LedgerActor },
    /** The caller's audit events, written in the same statement after the movement's (no extra round trip under the lock). */
    after: AuditRecord[] = [],
    /**
     * The caller's own writes, run in the same statement (one round trip fewer); `alongsideRows` is the number of
     * rows the first of them returned. They are written even when the fund cannot cover the amount: the caller's
     * transaction rolls them back with the InsufficientFundsException.
     */
    alongside: SqlPart[] = [],
  ): Promise<LedgerPosting & { alongsideRows: number }> {
    if (!isValidAmount(input.amount)) throw invalidAmount();
    const posted = await this.post(
      tx,
      {
        kind: 'commitment',
        postingKey: `commitment:${input.applicationId}`,
        amount: input.amount,
        actor: input.actor,
        applicationId: input.applicationId,
        audit: { action: 'fund.committed', objectType: 'application', objectId: input.applicationId },
      },
      after,
      { account: ACCOUNTS.available, covers: input.amount },
      alongside,
    );
    if (!posted.journalTransactionId) throw new InsufficientFundsException(input.amount, posted.available ?? 0);
    return { journalTransactionId: posted.journalTransactionId, kind: posted.kind, amount: posted.amount, alongsideRows: posted.alongsideRows };
  }

  /**
   * committed → available. Without `disbursementId`: cancelling the grant (release what is committed and not paid;
   * see `grantBalance`). With it: cancelling one scheduled tranche, once per disbursement, refused while it is paid.
   * @throws GrantBalanceException (409) when the grant has less than `amount` committed
   */
  async releaseCommitment(
    tx: EntityManager,
    input: { applicationId: string; amount: number; actor: LedgerActor; disbursementId?: string },
  ): Promise<LedgerPosting> {
    await this.lockAccounts(tx, input.amount);
    const grant = await this.grantBalance(tx, input.applicationId);
    if (grant.committed < input.amount) {
      throw new GrantBalanceException(`This grant has ${grant.committed} fen committed and not paid; ${input.amount} cannot be released.`);
    }
    let postingKey: string;
    if (input.disbursementId) {
      const history = await this.disbursementHistory(tx, input.disbursementId);
      if (history.releases > 0) throw new DuplicatePostingException('This disbursement was already released.');
      if (history.payments > history.returns) throw new ConflictException('disbursement-paid', 'A paid disbursement cannot be released; record its return first.');
      postingKey = `release:disbursement:${input.disbursementId}`;
    } else {
      const [{ n }] = (await tx.query(
        `SELECT count(*)::int AS n FROM journal_transactions WHERE application_id = $1 AND kind = 'release' AND disbursement_id IS NULL`,
        [input.applicationId],
      )) as { n: number }[];
      postingKey = `release:application:${input.applicationId}:${n + 1}`;
    }
    const target = input.disbursementId
      ? { objectType: 'disbursement', objectId: input.disbursementId }
      : { objectType: 'application', objectId: input.applicationId };
    return this.post(tx, {
      kind: 'release',
      postingKey,
      amount: input.amount,
      actor: input.actor,
      applicationId: input.applicationId,
      disbursementId: input.disbursementId,
      audit: { action: 'fund.commitment_released', ...target },
    });
  }

  /**
   * committed → disbursed: a tranche was paid. One payment per disbursement until a return reopens it.
   * @throws DuplicatePostingException (409) when the disbursement is already paid
   * @throws GrantBalanceException (409) when the grant has less than `amount` committed
   */
  async disburse(
    tx: EntityManager,
    input: { applicationId: string; disbursementId: string; amount: number; actor: LedgerActor },
  ): Promise<LedgerPosting> {
    await this.lockAccounts(tx, input.amount);
    const history = await this.disbursementHistory(tx, input.disbursementId);
    if (history.releases > 0) throw new ConflictException('disbursement-released', 'This disbursement was cancelled and its amount released.');
    if (history.payments > history.returns) throw new DuplicatePostingException('This disbursement is already paid.');
    const grant = await this.grantBalance(tx, input.applicationId);
    if (grant.committed < input.amount) {
      throw new GrantBalanceException(`This grant has ${grant.committed} fen committed and not paid; ${input.amount} cannot be paid.`);
    }
    return this.post(tx, {
      kind: 'payment',
      postingKey: `payment:${input.disbursementId}:${history.payments + 1}`,
      amount: input.amount,
      actor: input.actor,
      applicationId: input.applicationId,
      disbursementId: input.disbursementId,
      audit: { action: 'fund.disbursed', objectType: 'disbursement', objectId: input.disbursementId },
    });
  }

  /**
   * disbursed → committed: the bank returned a payment; the tranche can be paid again.
   * `amount` must be the whole amount of the outstanding payment.
   */
  async returnPayment(
    tx: EntityManager,
    input: { applicationId: string; disbursementId: string; amount: number; actor: LedgerActor },
  ): Promise<LedgerPosting> {
    await this.lockAccounts(tx, input.amount);
    const history = await this.disbursementHistory(tx, input.disbursementId);
    if (history.payments <= history.returns || !history.lastPayment) {
      throw new ConflictException('disbursement-not-paid', 'This disbursement has no outstanding payment to return.');
    }
    if (history.lastPayment.applicationId !== input.applicationId || history.lastPayment.amount !== input.amount) {
      throw new GrantBalanceException(`A return reverses the whole outstanding payment of ${history.lastPayment.amount} fen of this grant.`);
    }
    return this.post(tx, {
      kind: 'return',
      postingKey: `return:${input.disbursementId}:${history.returns + 1}`,
      amount: input.amount,
      actor: input.actor,
      applicationId: input.applicationId,
      disbursementId: input.disbursementId,
      audit: { action: 'fund.payment_returned', objectType: 'disbursement', objectId: input.disbursementId },
    });
  }

  /** The fund's balances; received = available + committed + disbursed by construction (all accounts sum to zero). */
  async balances(tx?: EntityManager): Promise<FundSummary> {
    const rows = (await (tx ?? this.dataSource.manager).query(`SELECT code, balance FROM ledger_accounts WHERE code = ANY($1)`, [
      ACCOUNT_CODES,
    ])) as { code: AccountCode; balance: string }[];
    return fundSummary(toBalances(rows));
  }

  /** What one grant has committed (approved, not yet paid) and disbursed (paid, not returned). */
  async grantBalance(tx: EntityManager, applicationId: string): Promise<GrantLedgerBalance> {
    const rows = (await tx.query(`SELECT account_code AS code, balance FROM ledger_grant_balances WHERE application_id = $1`, [
      applicationId,
    ])) as { code: AccountCode; balance: string }[];
    const balances = toBalances(rows);
    return { committed: balances[ACCOUNTS.committed], disbursed: balances[ACCOUNTS.disbursed] };
  }

  /**
   * Locks every fund account in code order and returns the balances as seen under the lock; grant balances read
   * afterwards are stable too. All accounts, not only the movement's two: a second movement in the same
   * transaction then needs no new lock (and so cannot deadlock with another transaction's first).
   */
  private async lockAccounts(tx: EntityManager, amount: number): Promise<Balances> {
    if (!isValidAmount(amount)) throw invalidAmount();
    const lock = () => queryPrepared<{ code: AccountCode; balance: string }>(tx, LOCK_ACCOUNTS, [LOCK_ORDER]);
    let rows = await lock();
    if (rows.length < LOCK_ORDER.length) {
      // The migration creates the accounts; this covers a database whose tables were emptied (the e2e reset does).
      await tx.query(
        `INSERT INTO ledger_accounts (code, normal_side, per_grant) SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[]) ON CONFLICT DO NOTHING`,
        [ACCOUNT_DEFINITIONS.map((a) => a.code), ACCOUNT_DEFINITIONS.map((a) => a.normalSide), ACCOUNT_DEFINITIONS.map((a) => a.perGrant)],
      );
      rows = await lock();
    }
    return toBalances(rows);
  }

  private async disbursementHistory(tx: EntityManager, disbursementId: string) {
    const [counts] = (await tx.query(
      `SELECT count(*) FILTER (WHERE kind = 'payment')::int AS payments, count(*) FILTER (WHERE kind = 'return')::int AS returns,
              count(*) FILTER (WHERE kind = 'release')::int AS releases
         FROM journal_transactions WHERE disbursement_id = $1`,
      [disbursementId],
    )) as { payments: number; returns: number; releases: number }[];
    const [last] = (await tx.query(
      `SELECT t.application_id AS "applicationId", e.amount FROM journal_transactions t
         JOIN ledger_entries e ON e.transaction_id = t.id AND e.amount > 0
        WHERE t.disbursement_id = $1 AND t.kind = 'payment' ORDER BY t.id DESC LIMIT 1`,
      [disbursementId],
    )) as { applicationId: string; amount: string }[];
    return { ...counts, lastPayment: last ? { applicationId: last.applicationId, amount: Number(last.amount) } : null };
  }

  /**
   * One statement: the journal transaction, its entries (the posting trigger moves the balances) and the audit
   * events — the movement's, then `after` (the caller's, chained in that order) — so the fund's lock, taken before,
   * is held for one round trip and COMMIT. With `precondition`, the statement takes the fund's lock itself first
   * and posts nothing unless `account` then holds at least `covers` (journalTransactionId is then empty and
   * `available` is that balance). `alongside`: the caller's parts, after these (see commitForApproval).
   */
  private async post(
    tx: EntityManager,
    p: PostingInput,
    after: AuditRecord[] = [],
    precondition?: { account: AccountCode; covers: number },
    alongside: SqlPart[] = [],
  ): Promise<LedgerPosting & { available: number | null; alongsideRows: number }> {
    const entries = movementEntries(p.kind, p.amount, p.applicationId ?? null);
    // With a precondition, w0 is the fund's lock and the journal transaction w1.
    const journal = precondition ? 'w1' : 'w0';
    const movement: AuditRecord = {
      actor: p.actor,
      action: p.audit.action,
      objectType: p.audit.objectType,
      objectId: p.audit.objectId,
      summary: {
        amount: p.amount,
        from: MOVEMENTS[p.kind].from,
        to: MOVEMENTS[p.kind].to,
        journalTransactionId: slot(`${journal}.id::text`),
        ...(p.applicationId && p.audit.objectType !== 'application' ? { applicationId: p.applicationId } : {}),
      },
    };
    const own = precondition ? 4 : 3;
    let rows: { id: string | null; available: string | null; alongside: number }[];
    try {
      rows = await writeTogether<{ id: string | null; available: string | null; alongside: number }>(
        tx,
        [
          ...(precondition ? [{ sql: LOCK_ACCOUNTS, params: [LOCK_ORDER] }] : []),
          {
            sql: `INSERT INTO journal_transactions (kind, posting_key, contribution_id, application_id, disbursement_id, actor_id, actor_role)
                  ${precondition ? 'SELECT $1, $2, $3::uuid, $4::uuid, $5::uuid, $6::uuid, $7 WHERE (SELECT sum(balance) FILTER (WHERE code = $8) FROM w0) >= $9' : 'VALUES ($1, $2, $3, $4, $5, $6, $7)'}
                  RETURNING id`,
            params: [
              p.kind, p.postingKey, p.contributionId ?? null, p.applicationId ?? null, p.disbursementId ?? null, p.actor?.id ?? null, p.actor?.role ?? null,
              ...(precondition ? [precondition.account, precondition.covers] : []),
            ],
          },
          {
            sql: `INSERT INTO ledger_entries (transaction_id, account_code, application_id, amount)
                  SELECT ${journal}.id, e.account, e.application, e.amount FROM ${journal}, unnest($1::text[], $2::uuid[], $3::bigint[]) AS e(account, application, amount)`,
            params: [entries.map((e) => e.account), entries.map((e) => e.applicationId), entries.map((e) => e.amount)],
          },
          this.audit.pendingFrom(journal, [movement, ...after]),
          ...alongside,
        ],
        `SELECT (SELECT id::text FROM ${journal}) AS id,
                ${precondition ? `(SELECT balance::text FROM w0 WHERE code = '${precondition.account}')` : 'NULL'} AS available,
                ${alongside.length ? `(SELECT count(*) FROM w${own})::int` : '0'} AS alongside`,
      );
    } catch (error) {
      throw ledgerError(error);
    }
    const [row] = rows;
    return {
      journalTransactionId: row.id ?? '',
      kind: p.kind,
      amount: p.amount,
      available: row.available === null ? null : Number(row.available),
      alongsideRows: row.alongside,
    };
  }
}

/** Every fund account, locked in code order: the one lock order of all movements (none can deadlock another). */
const LOCK_ACCOUNTS = `SELECT code, balance FROM ledger_accounts WHERE code = ANY($1) ORDER BY code FOR UPDATE`;
const LOCK_ORDER = [...ACCOUNT_CODES].sort();

function invalidAmount(): InvalidInputException {
  return new InvalidInputException([{ field: 'amount', message: `must be an integer number of fen in 1..${MAX_MOVEMENT}` }]);
}

function toBalances(rows: { code: AccountCode; balance: string }[]): Balances {
  const balances = { ...ZERO_BALANCES };
  for (const row of rows) balances[row.code] = Number(row.balance);
  return balances;
}

/** The database's own refusals, for when a check above was bypassed or raced: never a 500. */
function ledgerError(error: unknown): unknown {
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code === '23505' && constraint === 'journal_transactions_posting_key_key') return new DuplicatePostingException();
  if (code === '23514' && (constraint === 'ledger_accounts_balance_sign' || constraint === 'ledger_grant_balances_balance_check')) {
    return new GrantBalanceException('The ledger refused a movement that would overdraw an account.');
  }
  return error;
}
