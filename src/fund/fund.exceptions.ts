import { ConflictException, ProblemException } from 'src/common/problem/problem.exception';

export class InsufficientFundsException extends ProblemException {
  constructor(
    readonly requested: number,
    readonly available: number,
  ) {
    super(409, 'insufficient-funds', 'Insufficient funds', 'The fund does not have enough available money to commit this amount.', {
      requested,
      available,
    });
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
