/**
 * The fund's accounts and the five movements of DESIGN.md "Money", and the reversal of a contribution, as data. Entries
 * are signed fen: positive debits an account, negative credits it. Fund accounts are debit-normal (they hold money);
 * `donations` is credit-normal (where the money came from), so its balance is minus what was received.
 */
export const ACCOUNTS = {
  donations: 'donations',
  available: 'fund:available',
  committed: 'fund:committed',
  disbursed: 'fund:disbursed',
} as const;

export type AccountCode = (typeof ACCOUNTS)[keyof typeof ACCOUNTS];
export const ACCOUNT_CODES: readonly AccountCode[] = Object.values(ACCOUNTS);

/** Accounts whose entries carry the grant (application) they belong to; their per-grant balances never go negative. */
export const PER_GRANT_ACCOUNTS: readonly AccountCode[] = [ACCOUNTS.committed, ACCOUNTS.disbursed];

export const ACCOUNT_DEFINITIONS: readonly { code: AccountCode; normalSide: 'debit' | 'credit'; perGrant: boolean }[] = ACCOUNT_CODES.map((code) => ({
  code,
  normalSide: code === ACCOUNTS.donations ? 'credit' : 'debit',
  perGrant: PER_GRANT_ACCOUNTS.includes(code),
}));

export type MovementKind = 'contribution' | 'commitment' | 'release' | 'payment' | 'return' | 'contribution_reversal';

/** Each movement takes `amount` from one account (credit) and puts it in another (debit). */
export const MOVEMENTS: Record<MovementKind, { from: AccountCode; to: AccountCode }> = {
  contribution: { from: ACCOUNTS.donations, to: ACCOUNTS.available },
  commitment: { from: ACCOUNTS.available, to: ACCOUNTS.committed },
  release: { from: ACCOUNTS.committed, to: ACCOUNTS.available },
  payment: { from: ACCOUNTS.committed, to: ACCOUNTS.disbursed },
  return: { from: ACCOUNTS.disbursed, to: ACCOUNTS.committed },
  /** A contribution recorded by mistake, taken back whole: the ledger is append-only, so it is undone by a movement. */
  contribution_reversal: { from: ACCOUNTS.available, to: ACCOUNTS.donations },
};

/** Largest single movement: ¥10,000,000,000. Keeps every sum far inside Number.MAX_SAFE_INTEGER. */
export const MAX_MOVEMENT = 1_000_000_000_000;

export type Entry = { account: AccountCode; amount: number; applicationId: string | null };

export function isValidAmount(amount: unknown): amount is number {
  return typeof amount === 'number' && Number.isSafeInteger(amount) && amount >= 1 && amount <= MAX_MOVEMENT;
}

/** The balanced pair of entries for one movement; the grant id rides on the entries of per-grant accounts. */
export function movementEntries(kind: MovementKind, amount: number, applicationId: string | null = null): Entry[] {
  if (!isValidAmount(amount)) throw new RangeError(`a ledger movement is an integer number of fen in 1..${MAX_MOVEMENT}`);
  const { from, to } = MOVEMENTS[kind];
  const grantOf = (account: AccountCode) => (PER_GRANT_ACCOUNTS.includes(account) ? applicationId : null);
  for (const account of [from, to]) {
    if (PER_GRANT_ACCOUNTS.includes(account) && !applicationId) throw new RangeError(`a ${kind} moves grant money and needs the application id`);
  }
  return [
    { account: from, amount: -amount, applicationId: grantOf(from) },
    { account: to, amount, applicationId: grantOf(to) },
  ];
}

export type Balances = Record<AccountCode, number>;

export const ZERO_BALANCES: Balances = { donations: 0, 'fund:available': 0, 'fund:committed': 0, 'fund:disbursed': 0 };

/** What `GET /fund` shows: received is what donations gave, and it is always the sum of the other three. */
export type FundSummary = { received: number; available: number; committed: number; disbursed: number };

export function fundSummary(balances: Balances): FundSummary {
  return {
    received: 0 - balances.donations, // not -x: -0 is not 0 to a strict comparison
    available: balances['fund:available'],
    committed: balances['fund:committed'],
    disbursed: balances['fund:disbursed'],
  };
}

/** Balances after the entries, or null when an account would leave its normal side (the database refuses the same). */
export function applyEntries(balances: Balances, entries: Entry[]): Balances | null {
  const next = { ...balances };
  for (const entry of entries) next[entry.account] += entry.amount;
  const holds = ACCOUNT_DEFINITIONS.every(({ code, normalSide }) => (normalSide === 'debit' ? next[code] >= 0 : next[code] <= 0));
  return holds ? next : null;
}
