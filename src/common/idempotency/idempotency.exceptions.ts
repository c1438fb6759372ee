import { ProblemException } from 'src/common/problem/problem.exception';

export class IdempotencyKeyReusedException extends ProblemException {
  constructor() {
    super(422, 'idempotency-key-reused', 'Idempotency key reused', 'This Idempotency-Key was already used for a different request.');
  }
}

export class IdempotentRequestInFlightException extends ProblemException {
  constructor() {
    super(409, 'idempotency-request-in-flight', 'Request in progress', 'A request with this Idempotency-Key is still being processed; retry shortly.');
  }
}
