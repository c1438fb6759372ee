import { ConflictException, ProblemException } from 'src/common/problem/problem.exception';

export class InsufficientFundsException extends ProblemException {
  constructor(
    readonly requested: number,
    readonly available: number,
    detail = 'The fund does not have enough available money to commit this amount.',
  ) {
    super(409, 'insufficient-funds', 'Insufficient funds', detail, { requested, available });
  }
}

/** The same ledger movement posted twice (same contribution, commitment, payment attempt, …). */
export class DuplicatePostingException extends ConflictException {
  constructor(detail = 'This movement has already been posted to the fund ledger.') {
    super('duplicate-posting', detail);
  }
}

/** A grant-level movement that the grant's own balance cannot cover (release or pay more than committed, …). */
export class GrantBalanceException extends ConflictException {
  constructor(detail: string) {
    super('grant-balance-exceeded', detail);
  }
}

export class DuplicateContributionException extends ConflictException {
  constructor() {
    super('duplicate-contribution', 'A contribution with this reference has already been recorded.');
  }
}

export class ContributionAlreadyReversedException extends ConflictException {
  constructor() {
    super('contribution-already-reversed', 'This contribution has already been reversed.');
  }
}

/** Reversing a contribution takes its money out of the available balance, which grants may have committed meanwhile. */
export class ContributionCommittedException extends InsufficientFundsException {
  constructor(requested: number, available: number) {
    super(
      requested,
      available,
      `Only ${available} fen of the fund is available; the rest of this contribution's ${requested} fen is already committed to grants ` +
        '(or paid out). Cancel or reduce grants to release that money before reversing it.',
    );
  }
}
