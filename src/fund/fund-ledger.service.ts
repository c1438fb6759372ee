import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditRecord, AuditService } from 'src/audit/audit.service';
import { slot } from 'src/audit/bulk-audit';
import { queryPrepared } from 'src/database/prepared-query';
import { SqlPart, writeTogether } from 'src/database/statement-parts';
import { AuthUser } from 'src/common/auth/roles';
import { ConflictException, InvalidInputException } from 'src/common/problem/problem.exception';
import {
  ContributionAlreadyReversedException,
  ContributionCommittedException,
  DuplicatePostingException,
  GrantBalanceException,
  InsufficientFundsException,
} from 'src/fund/fund.exceptions';
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
 * An approval's commitment is the exception: it is queued and posted at COMMIT (see commitForApproval), so a
 * transaction that makes one runs through `transaction()`.
 *
 * Lock order: your own rows (application, disbursement) → the fund's accounts → the audit chain. The chain's lock
 * comes last by construction: the database takes it at COMMIT (migration AuditChainAtCommit), after posting the
 * transaction's queued commitments (FundCommitmentAtCommit), so `AuditService.record` may come before or after
 * ledger calls. `AuditService.recordMany` takes the chain's lock at once: no ledger call may follow it.
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
   * available → donations, the whole amount of a contribution recorded by mistake, once per contribution.
   * @throws ContributionAlreadyReversedException (409) when it was reversed before
   * @throws ContributionCommittedException (409 insufficient-funds) when less than `amount` is available: grants committed it
   */
  async reverseContribution(tx: EntityManager, input: { contributionId: string; amount: number; actor: LedgerActor }): Promise<LedgerPosting> {
    const balances = await this.lockAccounts(tx, input.amount);
    const postingKey = `contribution-reversal:${input.contributionId}`;
    // Under the fund's lock: a reversal committed while this one waited for it is seen here.
    const [reversed] = (await tx.query(`SELECT 1 FROM journal_transactions WHERE posting_key = $1`, [postingKey])) as unknown[];
    if (reversed) throw new ContributionAlreadyReversedException();
    if (balances[ACCOUNTS.available] < input.amount) throw new ContributionCommittedException(input.amount, balances[ACCOUNTS.available]);
    return this.post(tx, {
      kind: 'contribution_reversal',
      postingKey,
      amount: input.amount,
      actor: input.actor,
      contributionId: input.contributionId,
      audit: { action: 'fund.contribution_reversed', objectType: 'contribution', objectId: input.contributionId },
    });
  }

  /**
   * available → committed, once per application, posted when the caller's transaction COMMITs: run that transaction
   * through `transaction()`, or wrap what opens it in `refusalsMapped()`. The movement is queued
   * (`ledger_pending_postings`) without any lock; at COMMIT the database locks the fund's accounts (all of them, in
   * code order, as every movement does), posts it only if `fund:available` then covers the amount, and holds the
   * lock for that and the commit's flush only, instead of from the caller's statement through the api's turnaround
   * to COMMIT (migration FundCommitmentAtCommit). Until COMMIT, this transaction's balances do not show the commitment.
   * @throws InsufficientFundsException (409 insufficient-funds), from `transaction()` or `refusalsMapped()`, when
   *   available < amount at COMMIT
   * @throws DuplicatePostingException (409), from `transaction()`, when this application already has a commitment
   */
  async commitForApproval(
    tx: EntityManager,
    input: { applicationId: string; amount: number; actor: LedgerActor },
    /** The caller's audit events, written in the same statement after the movement's (chained after it at COMMIT). */
    after: AuditRecord[] = [],
    /** The caller's own writes, run in the same statement (one round trip fewer); `alongsideRows` is the number of rows the first of them returned. */
    alongside: SqlPart[] = [],
  ): Promise<LedgerPosting & { alongsideRows: number }> {
    if (!isValidAmount(input.amount)) throw invalidAmount();
    const p: PostingInput = {
      kind: 'commitment',
      postingKey: `commitment:${input.applicationId}`,
      amount: input.amount,
      actor: input.actor,
      applicationId: input.applicationId,
      audit: { action: 'fund.committed', objectType: 'application', objectId: input.applicationId },
    };
    const entries = movementEntries(p.kind, p.amount, input.applicationId);
    const [row] = await writeTogether<{ id: string; alongside: number }>(
      tx,
      [
        {
          sql: `INSERT INTO ledger_pending_postings (journal_id, kind, posting_key, application_id, actor_id, actor_role, covers_account, covers_amount,
                                                     entry_accounts, entry_applications, entry_amounts)
                VALUES (nextval('journal_transactions_id_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING journal_id AS id`,
          params: [
            p.kind, p.postingKey, input.applicationId, p.actor?.id ?? null, p.actor?.role ?? null, ACCOUNTS.available, input.amount,
            entries.map((e) => e.account), entries.map((e) => e.applicationId), entries.map((e) => e.amount),
          ],
        },
        this.audit.pendingFrom('w0', [movementAudit(p, 'w0'), ...after]),
        ...alongside,
      ],
      `SELECT (SELECT id::text FROM w0) AS id, ${alongside.length ? '(SELECT count(*) FROM w2)::int' : '0'} AS alongside`,
    );
    return { journalTransactionId: row.id, kind: p.kind, amount: p.amount, alongsideRows: row.alongside };
  }

  /**
   * Runs `work` in a transaction and turns the ledger's refusals at COMMIT (a queued commitForApproval the fund cannot
   * cover, or posted twice) into the same problems as a refusal mid-transaction: 409s, never a 500.
   */
  async transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.refusalsMapped(() => this.dataSource.transaction(work));
  }

  /** As transaction(), for a caller that opens the transaction itself (IdempotencyService.execute). */
  async refusalsMapped<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw ledgerError(error);
    }
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
   * One statement: the journal transaction, its entries (the posting trigger moves the balances) and the movement's
   * audit event, so the fund's lock, taken before, is held for one round trip and COMMIT.
   */
  private async post(tx: EntityManager, p: PostingInput): Promise<LedgerPosting> {
    const entries = movementEntries(p.kind, p.amount, p.applicationId ?? null);
    let rows: { id: string }[];
    try {
      rows = await writeTogether<{ id: string }>(
        tx,
        [
          {
            sql: `INSERT INTO journal_transactions (kind, posting_key, contribution_id, application_id, disbursement_id, actor_id, actor_role)
                  VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
            params: [p.kind, p.postingKey, p.contributionId ?? null, p.applicationId ?? null, p.disbursementId ?? null, p.actor?.id ?? null, p.actor?.role ?? null],
          },
          {
            sql: `INSERT INTO ledger_entries (transaction_id, account_code, application_id, amount)
                  SELECT w0.id, e.account, e.application, e.amount FROM w0, unnest($1::text[], $2::uuid[], $3::bigint[]) AS e(account, application, amount)`,
            params: [entries.map((e) => e.account), entries.map((e) => e.applicationId), entries.map((e) => e.amount)],
          },
          this.audit.pendingFrom('w0', [movementAudit(p, 'w0')]),
        ],
        `SELECT id::text FROM w0`,
      );
    } catch (error) {
      throw ledgerError(error);
    }
    return { journalTransactionId: rows[0].id, kind: p.kind, amount: p.amount };
  }
}

/** The movement's audit event; its journal transaction's id is `source`.id, known only inside the statement. */
function movementAudit(p: PostingInput, source: string): AuditRecord {
  return {
    actor: p.actor,
    action: p.audit.action,
    objectType: p.audit.objectType,
    objectId: p.audit.objectId,
    summary: {
      amount: p.amount,
      from: MOVEMENTS[p.kind].from,
      to: MOVEMENTS[p.kind].to,
      journalTransactionId: slot(`${source}.id::text`),
      ...(p.applicationId && p.audit.objectType !== 'application' ? { applicationId: p.applicationId } : {}),
    },
  };
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

/** The database's own refusals, for when a check above was bypassed or raced, or ran at COMMIT: never a 500. */
function ledgerError(error: unknown): unknown {
  const { code, constraint, detail } = error as { code?: string; constraint?: string; detail?: string };
  if (code === '23514' && constraint === 'ledger_pending_postings_covered') {
    const { requested, available } = JSON.parse(detail ?? '{}') as { requested?: number; available?: number };
    return new InsufficientFundsException(Number(requested), Number(available));
  }
  if (code === '23505' && constraint === 'journal_transactions_posting_key_key') return new DuplicatePostingException();
  if (code === '23514' && (constraint === 'ledger_accounts_balance_sign' || constraint === 'ledger_grant_balances_balance_check')) {
    return new GrantBalanceException('The ledger refused a movement that would overdraw an account.');
  }
  return error;
}
