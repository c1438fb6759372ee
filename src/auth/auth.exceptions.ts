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

/** What the attempts were, in the words a family reads in the 429. */
const ATTEMPTS = {
  'sign-in': 'sign-in attempts',
  reset: 'password reset requests',
  'resend-verification': 'requests for a verification email',
  register: 'registrations',
} as const;
/** The kinds of attempt LoginThrottleService counts apart. */
export type AttemptKind = keyof typeof ATTEMPTS;

export class TooManyAttemptsException extends ProblemException {
  constructor(
    readonly retryAfterSeconds: number,
    kind: AttemptKind = 'sign-in',
  ) {
    super(429, 'too-many-attempts', 'Too many attempts', `Too many ${ATTEMPTS[kind]}. Please wait and try again.`, {
      retryAfter: retryAfterSeconds,
    });
  }
}

export class EmailAlreadyVerifiedException extends ProblemException {
  constructor() {
    super(409, 'email-already-verified', 'Conflict', 'This email address is already verified: there is no link to send.');
  }
}
