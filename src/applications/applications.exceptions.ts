import { ConflictException, ProblemException } from 'src/common/problem/problem.exception';
import type { FieldError } from 'src/common/problem/problem.exception';
import type { ApplicationAction, ApplicationStatus } from 'src/applications/application-status';

export class ApplicationNotFoundException extends ProblemException {
  constructor() {
    super(404, 'application-not-found', 'Not found', 'Application was not found.');
  }
}

/** A (status, action) pair the transition table does not allow. */
export class InvalidStatusTransitionException extends ConflictException {
  constructor(action: ApplicationAction | 'edit' | 'upload' | 'delete-document', current: ApplicationStatus) {
    super('invalid-status-transition', `The application is ${current}; "${action}" is not possible in that status.`, { currentStatus: current });
  }
}

export class ApplicationVersionConflictException extends ConflictException {
  constructor(current: number) {
    super('version-conflict', `The application changed meanwhile (it is now at version ${current}); reload it and try again.`, {
      currentVersion: current,
    });
  }
}

export class ApplicationIncompleteException extends ProblemException {
  constructor(missing: FieldError[]) {
    super(422, 'application-incomplete', 'Application incomplete', 'The application cannot be submitted yet; `errors` lists everything missing.', {
      errors: missing,
    });
  }
}

/** MAX_OPEN_DRAFTS_PER_ACCOUNT: applications the account started and never submitted. */
export class TooManyDraftsException extends ConflictException {
  constructor(open: number) {
    super(
      'too-many-drafts',
      `You have ${open} applications you have not submitted. Submit one, or withdraw one you no longer need, before starting another.`,
    );
  }
}
