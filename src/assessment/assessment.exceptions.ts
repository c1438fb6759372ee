import { ConflictException, ProblemException } from 'src/common/problem/problem.exception';

export class PolicyVersionConflictException extends ConflictException {
  constructor() {
    super('means-policy-version-conflict', 'Another administrator changed the means policy at the same time; reload it and try again.');
  }
}

/** A stale If-Match on a policy save: answered as a stale application version is (409 version-conflict). */
export class PolicyStaleVersionException extends ConflictException {
  constructor(current: number) {
    super('version-conflict', `The means policy changed meanwhile (it is now at version ${current}); reload it and try again.`, { currentVersion: current });
  }
}

export class AssessmentNotFoundException extends ProblemException {
  constructor() {
    super(404, 'assessment-not-found', 'Not found', 'This application has no means assessment yet.');
  }
}
