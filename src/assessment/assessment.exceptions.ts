import { ConflictException, ProblemException } from 'src/common/problem/problem.exception';

export class PolicyVersionConflictException extends ConflictException {
  constructor() {
    super('means-policy-version-conflict', 'Another administrator changed the means policy at the same time; reload it and try again.');
  }
}

export class AssessmentNotFoundException extends ProblemException {
  constructor() {
    super(404, 'assessment-not-found', 'Not found', 'This application has no means assessment yet.');
  }
}
