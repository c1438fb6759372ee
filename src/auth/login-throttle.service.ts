import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { AttemptKind, TooManyAttemptsException } from 'src/auth/auth.exceptions';
import { FieldCipher } from 'src/common/crypto/field-cipher';
import { throttledAddress } from 'src/auth/client-address';

const DAY_SECONDS = 86_400;
const HOUR_SECONDS = 3_600;

/** What an account's attempts are counted for: signing in (by email), asking for a reset link (by email), asking for a new verification link (by user id). */
export type AccountScope = Exclude<AttemptKind, 'register'>;

/**
 * Fixed-window counters in PostgreSQL (shared by every api replica, and still working when Redis is down):
 * every attempt counts against the client address and against the account; a successful sign-in clears the account's
 * and gives the address its attempt back.
 * The account's count is taken atomically BEFORE the password is checked: counting only after a failure let a burst of
 * parallel guesses all pass the check before the first failure was recorded (40 parallel guesses → 14 checks).
 *
 * A counter's key is a keyed hash (DATA_HASH_KEY) of the account or address it counts: what people type as their email
 * (often an address with no account, or their password in the wrong box) and where they sign in from are not kept
 * readable, and the worker deletes counters whose window has ended (LoginThrottleSweepService).
 */
@Injectable()
export class LoginThrottleService {
  private readonly cipher: FieldCipher;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {
    this.cipher = FieldCipher.fromEnv(config.env);
  }

  /**
   * Counts this attempt of `scope` for the address and for the account, and refuses when either is over its limit. An
   * attempt that then fails simply stays counted; `recordSuccess` clears the account's count. Each scope counts apart:
   * sign-in guesses do not use up the owner's reset requests, and an email typed at sign-in cannot name another
   * scope's counter.
   */
  async admit(scope: AccountScope, account: string, address: string): Promise<void> {
    const { LOGIN_MAX_ATTEMPTS_PER_ADDRESS, LOGIN_MAX_FAILURES_PER_ACCOUNT, ACCOUNT_EMAILS_PER_DAY } = this.config.env;
    const byAddress = await this.bump(`addr:${scope}:${throttledAddress(address)}`);
    if (byAddress.attempts > LOGIN_MAX_ATTEMPTS_PER_ADDRESS) throw new TooManyAttemptsException(byAddress.retryAfter, scope);
    const byAccount = await this.bump(`acct:${scope}:${account}`);
    if (byAccount.attempts > LOGIN_MAX_FAILURES_PER_ACCOUNT) throw new TooManyAttemptsException(byAccount.retryAfter, scope);
    if (scope === 'sign-in') return;
    // Each admitted request of these mails the account: five every window, window after window, from addresses
    // without end, made the fund's sender mail one inbox ~480 times a day for each kind. Past the day's number, one an
    // hour: a stranger who used the day up cannot keep the owner from a reset link for the rest of it (a stopped
    // count would be a cheaper lock-out than the window's). Counted for known and unknown addresses alike.
    const byDay = await this.bump(`day:${scope}:${account}`, DAY_SECONDS);
    if (byDay.attempts <= ACCOUNT_EMAILS_PER_DAY) return;
    const byHour = await this.bump(`hour:${scope}:${account}`, HOUR_SECONDS);
    if (byHour.attempts > 1) throw new TooManyAttemptsException(byHour.retryAfter, scope);
  }

  /**
   * Counts an attempt against the client address alone (LOGIN_MAX_ATTEMPTS_PER_ADDRESS per window), for requests that
   * cost a password hash whatever their outcome, such as registering: `scope` keeps their count apart from the others.
   */
  async admitAddress(scope: 'register', address: string): Promise<void> {
    const byAddress = await this.bump(`addr:${scope}:${throttledAddress(address)}`);
    if (byAddress.attempts > this.config.env.LOGIN_MAX_ATTEMPTS_PER_ADDRESS) throw new TooManyAttemptsException(byAddress.retryAfter, scope);
  }

  /**
   * Clears the account's count of `scope` (a sign-in that succeeded; a reset, which proves the mailbox, clears
   * sign-in's). Given the address a sign-in succeeded from, also gives it back its attempt: the address limit is for
   * guessing, and a ward's Wi-Fi, the fund's office or a mobile carrier's shared address (CGNAT) signs in many people
   * honestly — counting them locked everyone there out after LOGIN_MAX_ATTEMPTS_PER_ADDRESS sign-ins a window.
   */
  async recordSuccess(scope: AccountScope, account: string, address?: string): Promise<void> {
    await this.dataSource.query('DELETE FROM login_throttle WHERE key = $1', [this.keyOf(`acct:${scope}:${account}`)]);
    if (address === undefined) return;
    await this.dataSource.query('UPDATE login_throttle SET attempts = GREATEST(attempts - 1, 0) WHERE key = $1', [
      this.keyOf(`addr:${scope}:${throttledAddress(address)}`),
    ]);
  }

  private async bump(key: string, windowSeconds = this.config.env.LOGIN_WINDOW_SECONDS): Promise<{ attempts: number; retryAfter: number }> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO login_throttle AS t (key, window_started_at, attempts, window_seconds) VALUES ($1, now(), 1, $2)
       ON CONFLICT (key) DO UPDATE SET window_seconds = $2,
         attempts = CASE WHEN t.window_started_at < now() - make_interval(secs => $2) THEN 1 ELSE t.attempts + 1 END,
         window_started_at = CASE WHEN t.window_started_at < now() - make_interval(secs => $2) THEN now() ELSE t.window_started_at END
       RETURNING attempts, GREATEST(1, ceil(extract(epoch FROM window_started_at + make_interval(secs => $2) - now())))::int AS retry_after`,
      [this.keyOf(key), windowSeconds],
    )) as { attempts: number; retry_after: number }[];
    return { attempts: row.attempts, retryAfter: row.retry_after };
  }

  private keyOf(counter: string): string {
    return this.cipher.keyedHash(`login-throttle:${counter}`);
  }
}
