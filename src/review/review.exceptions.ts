import { ConflictException, ProblemException } from 'src/common/problem/problem.exception';

/** The application is the reviewer's own, or the reviewer is recorded as linked to the family or works for the treating hospital. */
export class ConflictOfInterestException extends ProblemException {
  constructor() {
    super(
      403,
      'conflict-of-interest',
      'Conflict of interest',
      'This application is your own, or you are recorded as linked to this family or to the treating hospital; another reviewer must handle it.',
    );
  }
}

/** The table allows the action, but not to this role (the route's own role check comes first). */
export class ReviewRoleNotAllowedException extends ProblemException {
  constructor() {
    super(403, 'role-not-allowed', 'Forbidden', 'Your role may not do this.');
  }
}

export class SameApproverException extends ConflictException {
  constructor() {
    super('four-eyes-same-reviewer', 'You gave the first approval; the second approval must come from another reviewer.');
  }
}

/** The two approvers are one admin and an account that admin made, or made a reviewer or admin: one person, maybe. */
export class LinkedApproverException extends ConflictException {
  constructor() {
    super(
      'four-eyes-linked-reviewer',
      'The first approval came from an administrator who created your account or gave it its role, from an account you created or gave its role, or from an account whose password the same administrator set as yours (until one of you sets your own with a password reset): the second approval must come from someone independent.',
    );
  }
}

export class ApprovalAmountMismatchException extends ConflictException {
  constructor() {
    super('four-eyes-amount-mismatch', 'The second approval must confirm the same amount as the first; it differs.');
  }
}

export class ReviewerConflictExistsException extends ConflictException {
  constructor() {
    super('reviewer-conflict-exists', 'This conflict of interest is already recorded.');
  }
}

/** Lifting one's own conflict of interest, then deciding the case alone (below the second-approval threshold), is four eyes short. */
export class OwnConflictException extends ProblemException {
  constructor(detail = 'A conflict of interest recorded against you must be removed by another admin.') {
    super(403, 'own-conflict', 'Forbidden', detail);
  }
}
