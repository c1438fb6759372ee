import fc from 'fast-check';
import {
  ACCOUNTS,
  ACCOUNT_CODES,
  applyEntries,
  Balances,
  fundSummary,
  MAX_MOVEMENT,
  MovementKind,
  MOVEMENTS,
  movementEntries,
  ZERO_BALANCES,
} from 'src/fund/ledger-movements';

const KINDS = Object.keys(MOVEMENTS) as MovementKind[];
const GRANT = '6f1c1a52-3f7e-4c59-9d53-1f9a0b6c2d10';

describe('ledger movements', () => {
  it('moves money exactly as DESIGN.md says', () => {
    expect(MOVEMENTS).toEqual({
      contribution: { from: 'donations', to: 'fund:available' },
      commitment: { from: 'fund:available', to: 'fund:committed' },
      release: { from: 'fund:committed', to: 'fund:available' },
      payment: { from: 'fund:committed', to: 'fund:disbursed' },
      return: { from: 'fund:disbursed', to: 'fund:committed' },
      contribution_reversal: { from: 'fund:available', to: 'donations' },
    });
  });

  it('tags only grant accounts with the application id', () => {
    expect(movementEntries('commitment', 500, GRANT)).toEqual([
      { account: 'fund:available', amount: -500, applicationId: null },
      { account: 'fund:committed', amount: 500, applicationId: GRANT },
    ]);
    expect(movementEntries('contribution', 7)).toEqual([
      { account: 'donations', amount: -7, applicationId: null },
      { account: 'fund:available', amount: 7, applicationId: null },
    ]);
  });

  it.each([0, -1, 1.5, MAX_MOVEMENT + 1, 2 ** 63, Number.NaN, Number.POSITIVE_INFINITY])('refuses the amount %p', (amount) => {
    expect(() => movementEntries('contribution', amount)).toThrow(RangeError);
  });

  it('refuses a grant movement without the application id', () => {
    expect(() => movementEntries('payment', 100)).toThrow(/application id/);
  });

  it('every movement is balanced: its entries sum to zero and move the amount from one account to the other', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.integer({ min: 1, max: MAX_MOVEMENT }), (kind, amount) => {
        const entries = movementEntries(kind, amount, GRANT);
        expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(0);
        expect(entries.map((e) => e.account)).toEqual([MOVEMENTS[kind].from, MOVEMENTS[kind].to]);
        expect(entries[1].amount).toBe(amount);
      }),
    );
  });

  it('any sequence of movements keeps the books: zero sum, nothing negative, received = available + committed + disbursed', () => {
    const step = fc.record({ kind: fc.constantFrom(...KINDS), amount: fc.integer({ min: 1, max: MAX_MOVEMENT }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let balances: Balances = { ...ZERO_BALANCES };
        let received = 0;
        for (const { kind, amount } of steps) {
          const from = MOVEMENTS[kind].from;
          const next = applyEntries(balances, movementEntries(kind, amount, GRANT));
          // Refused exactly when the source would leave its normal side: donations never refuse.
          const enough = from === ACCOUNTS.donations || balances[from] >= amount;
          expect(next !== null).toBe(enough);
          if (!next) continue;
          balances = next;
          if (kind === 'contribution') received += amount;
          if (kind === 'contribution_reversal') received -= amount;
          expect(ACCOUNT_CODES.reduce((sum, code) => sum + balances[code], 0)).toBe(0);
          const summary = fundSummary(balances);
          expect(summary.received).toBe(received);
          expect(summary.available + summary.committed + summary.disbursed).toBe(summary.received);
          expect(Math.min(summary.available, summary.committed, summary.disbursed)).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
