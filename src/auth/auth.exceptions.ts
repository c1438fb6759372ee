import { ProblemException } from 'src/common/problem/problem.exception';

export class InvalidCredentialsException extends ProblemException {
  constructor() {
    super(401, 'invalid-credentials', 'Invalid credentials', 'The email or password is not correct.');
  }
}

export class InvalidTokenException extends ProblemException {
  constructor(detail = 'The token is missing, invalid, expired or revoked.') {
    super(401, 'invalid-token', 'Authentication required', detail);
  }
}

export class InvalidOneTimeTokenException extends ProblemException {
  constructor() {
    super(400, 'invalid-one-time-token', 'Invalid token', 'This link is invalid, expired or was already used.');
  }
}

export class TooManyAttemptsException extends ProblemException {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'too-many-attempts', 'Too many attempts', 'Too many sign-in attempts. Please wait and try again.', {
      retryAfter: retryAfterSeconds,
    });
  }
}

export class EmailAlreadyVerifiedException extends ProblemException {
  constructor() {
    super(409, 'email-already-verified', 'Conflict', 'This email address is already verified: there is no link to send.');
  }
}
