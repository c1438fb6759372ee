import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser, Role } from 'src/common/auth/roles';
import { ConflictException } from 'src/common/problem/problem.exception';
import { AppConfig } from 'src/config/app-config';
import { writeTogether } from 'src/database/statement-parts';
import { OutboxService } from 'src/notifications/outbox.service';
import { Locale, User } from 'src/users/user.entity';
import { AccountEmailHasher } from 'src/auth/account-email-hasher';
import { EmailAlreadyVerifiedException, InvalidCredentialsException, InvalidOneTimeTokenException, InvalidTokenException } from 'src/auth/auth.exceptions';
import { AcceptInviteDto, ForgotPasswordDto, LoginDto, RegisterDto, RegisteredDto, ResetPasswordDto } from 'src/auth/dto/auth.dto';
import { LoginThrottleService } from 'src/auth/login-throttle.service';
import { OneTimeTokenPurpose } from 'src/auth/one-time-token.entity';
import { ONE_TIME_TOKEN_TTL_HOURS, OneTimeTokenService } from 'src/auth/one-time-token.service';
import { PasswordService } from 'src/auth/password.service';
import { TokenPair, TokenService } from 'src/auth/token.service';

const UNIQUE_VIOLATION = '23505';

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly passwords: PasswordService,
    private readonly tokens: TokenService,
    private readonly oneTimeTokens: OneTimeTokenService,
    private readonly throttle: LoginThrottleService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly emailHasher: AccountEmailHasher,
  ) {}

  /**
   * Hashing the password is the costly part (argon2: ~19 MiB and tens of milliseconds of the thread pool sign-ins
   * share), and anyone may call this: counted per client address, apart from sign-ins.
   */
  async register(dto: RegisterDto, address: string): Promise<RegisteredDto> {
    await this.throttle.admitAddress('register', address);
    const passwordHash = await this.passwords.hash(dto.password);
    try {
      return await this.dataSource.transaction(async (tx) => {
        const user = await tx.save(
          User,
          tx.create(User, {
            email: dto.email,
            passwordHash,
            fullName: dto.fullName,
            phone: dto.phone ?? null,
            role: 'applicant',
            locale: dto.locale ?? 'zh-CN',
            tokenVersion: 0,
          }),
        );
        await this.mailVerificationLink(tx, user, 'user.registered');
        await this.audit.record(tx, { actor: { id: user.id, role: 'applicant' }, action: 'user.registered', objectType: 'user', objectId: user.id });
        return { id: user.id, email: user.email, role: 'applicant' as const, emailVerified: false };
      });
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new ConflictException('email-taken', 'An account with this email already exists.');
      }
      throw error;
    }
  }

  async verifyEmail(token: string): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      const userId = await this.oneTimeTokens.consume(tx, token, 'verify_email');
      await tx.query('UPDATE users SET email_verified_at = COALESCE(email_verified_at, now()), updated_at = now() WHERE id = $1', [userId]);
      await this.audit.record(tx, { actor: null, action: 'user.email_verified', objectType: 'user', objectId: userId });
    });
  }

  /**
   * Mails the signed-in caller a new verification link (the first lasts 48 hours) and cancels the ones mailed before,
   * so that only the newest works. Unlike reset links, only the account's owner can ask, so cancelling them lets no
   * stranger kill the link the owner is about to use.
   *
   * Throttled per client address and per account (LOGIN_MAX_FAILURES_PER_ACCOUNT a window), counted apart from
   * sign-ins and resets, so that one account cannot flood its mailbox from many addresses.
   */
  async resendVerification(caller: AuthUser, address: string): Promise<void> {
    if (caller.emailVerified) throw new EmailAlreadyVerifiedException();
    await this.throttle.admit('resend-verification', caller.id, address);
    await this.dataSource.transaction(async (tx) => {
      // Locked as every writer of an account's links locks it (a link being taken meanwhile waits, then is seen).
      const user = await tx.findOne(User, { where: { id: caller.id }, lock: { mode: 'pessimistic_write' } });
      if (!user || user.disabledAt) throw new InvalidTokenException();
      if (user.emailVerifiedAt) throw new EmailAlreadyVerifiedException();
      await this.oneTimeTokens.revokeOutstanding(tx, user.id, 'verify_email');
      await this.mailVerificationLink(tx, user, 'user.verification_resent');
      await this.audit.record(tx, { actor: caller, action: 'user.verification_resent', objectType: 'user', objectId: user.id });
    });
  }

  /**
   * Sets the first password of an invited account. An invitation is worth nothing once the account has a password
   * (set through a reset link, say): whoever later finds the invitation in a forwarded email or a shared browser's
   * history cannot set another one.
   */
  async acceptInvite(dto: AcceptInviteDto): Promise<void> {
    const passwordHash = await this.hashForLink(dto.token, 'invitation', dto.password);
    await this.dataSource.transaction(async (tx) => {
      const userId = await this.oneTimeTokens.consume(tx, dto.token, 'invitation');
      // Receiving the invitation proves the address; the new password starts a new token generation.
      const [rows] = (await tx.query(
        `UPDATE users SET password_hash = $2, email_verified_at = COALESCE(email_verified_at, now()),
                token_version = token_version + 1, updated_at = now() WHERE id = $1 AND password_hash IS NULL RETURNING id`,
        [userId, passwordHash],
      )) as [unknown[], number];
      // The last word: a reset may have set a password since consume read the account.
      if (rows.length === 0) throw new InvalidOneTimeTokenException();
      await this.oneTimeTokens.revokeOutstanding(tx, userId, 'password_reset');
      await this.audit.record(tx, { actor: null, action: 'user.invitation_accepted', objectType: 'user', objectId: userId });
    });
  }

  /**
   * Mails a one-time reset link when the address belongs to an active account; does nothing otherwise. The caller
   * answers the same either way, and the throttle counts known and unknown addresses alike, so neither the
   * answer nor a 429 tells whether an account exists. Counted apart from sign-in attempts (`reset:` keys).
   *
   * Nor does the time taken: both ways lock the account's row (or find none), write one audited statement and commit,
   * and the commit waits for the audit chain's lock either way (a statement import holding it for seconds made a known
   * address's answer seconds slower than an unknown one's).
   *
   * Links mailed before stay good: anyone may ask, and a request that cancelled them let a stranger kill every link
   * the owner received. Using one cancels the others (resetPassword).
   */
  async forgotPassword(dto: ForgotPasswordDto, address: string): Promise<void> {
    await this.throttle.admit('reset', dto.email, address);
    const summary = { emailHash: this.emailHasher.hash(dto.email) };
    await this.dataSource.transaction(async (tx) => {
      const user = await tx.findOne(User, { where: { email: dto.email }, lock: { mode: 'pessimistic_write' } });
      if (!user || user.disabledAt) {
        const event = { actor: null, action: 'auth.password_reset_requested', objectType: 'user', summary };
        await writeTogether(tx, [this.audit.pendingOf([event])], 'SELECT 1');
        return;
      }
      const { token, expiresAt, insert } = this.oneTimeTokens.issueOf(user.id, 'password_reset');
      const email = this.outbox.insertOf({
        event: 'user.password_reset_requested',
        template: 'password-reset',
        to: { email: user.email, userId: user.id, locale: user.locale },
        context: {
          // Anyone may register an address under any name and then ask for a reset: the name is the inbox owner's
          // only once the address is verified (else the email greets with no name, as the verification email does).
          fullName: user.emailVerifiedAt ? user.fullName : null,
          token,
          resetUrl: this.link('/reset-password', token),
          expiresInMinutes: ONE_TIME_TOKEN_TTL_HOURS.password_reset * 60,
          linkExpiresAt: expiresAt,
        },
      });
      const event = { actor: null, action: 'user.password_reset_requested', objectType: 'user', objectId: user.id, summary };
      await writeTogether(tx, [insert, email, this.audit.pendingOf([event])], 'SELECT 1');
    });
  }

  /**
   * A new password starts a new token generation and ends every session: whoever knew the old one is signed out. It
   * also cancels the account's other reset links (several may be out: asking again cancels none) and an invitation
   * still open (the account has a password now).
   */
  async resetPassword(dto: ResetPasswordDto): Promise<void> {
    const passwordHash = await this.hashForLink(dto.token, 'password_reset', dto.password);
    const email = await this.dataSource.transaction(async (tx) => {
      const userId = await this.oneTimeTokens.consume(tx, dto.token, 'password_reset');
      // The link arrived in the mailbox, which proves the address.
      const [[user]] = (await tx.query(
        `UPDATE users u SET password_hash = $2, email_verified_at = COALESCE(u.email_verified_at, now()),
                token_version = u.token_version + 1, updated_at = now()
           FROM (SELECT email_verified_at FROM users WHERE id = $1) before
          WHERE u.id = $1
          RETURNING u.email, u.full_name, u.role, u.locale, before.email_verified_at IS NOT NULL AS was_verified`,
        [userId, passwordHash],
      )) as [{ email: string; full_name: string; role: Role; locale: Locale; was_verified: boolean }[], number];
      await this.tokens.endAllSessions(tx, userId, 'password_reset');
      await this.oneTimeTokens.revokeOutstanding(tx, userId, 'password_reset', 'invitation');
      await this.audit.record(tx, { actor: null, action: 'user.password_reset', objectType: 'user', objectId: userId });
      // A reset link that leaked lets someone else take the account: its owner hears of it at once, not when signed out.
      await this.outbox.enqueue(tx, {
        event: 'user.password_changed',
        template: 'password-changed',
        to: { email: user.email, userId, locale: user.locale },
        // The name only as the reset email gives it: typed by anyone until the address was verified.
        context: { fullName: user.was_verified ? user.full_name : null, role: user.role, changedAt: new Date().toISOString(), forgotUrl: this.config.publicUrl('/forgot-password') },
      });
      return user.email;
    });
    // Whoever locked the account out with wrong passwords should not keep its owner out after a reset.
    await this.throttle.recordSuccess('sign-in', email);
  }

  async login(dto: LoginDto, address: string): Promise<TokenPair> {
    await this.throttle.admit('sign-in', dto.email, address);
    const user = await this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email: dto.email })
      .getOne();
    const valid = await this.passwords.verify(user?.passwordHash, dto.password);
    if (!user || !valid || user.disabledAt) {
      // The attempt was already counted against the account by admit(). Audited for an unknown email too: the commit
      // then waits for the audit chain's lock either way, so how long a failure takes does not tell whether the
      // address has an account.
      const summary = { emailHash: this.emailHasher.hash(dto.email) };
      const event = { actor: null, action: 'auth.login_failed', objectType: 'user', objectId: user?.id ?? null, summary };
      await this.dataSource.transaction((tx) => this.audit.record(tx, event));
      throw new InvalidCredentialsException();
    }
    await this.throttle.recordSuccess('sign-in', dto.email, address);
    return this.dataSource.transaction(async (tx) => {
      const pair = await this.tokens.startSession(tx, user);
      await this.audit.record(tx, { actor: { id: user.id, role: user.role }, action: 'auth.login', objectType: 'user', objectId: user.id });
      return pair;
    });
  }

  refresh(refreshToken: string): Promise<TokenPair> {
    return this.tokens.rotate(refreshToken);
  }

  async logout(user: AuthUser): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.query(`UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = $1 AND revoked_at IS NULL`, [user.sessionId]);
      await this.audit.record(tx, { actor: user, action: 'auth.logout', objectType: 'user', objectId: user.id });
    });
  }

  /** Hashes the new password a link brings, once the link is known to be good; consume stays the last word. */
  private async hashForLink(token: string, purpose: OneTimeTokenPurpose, password: string): Promise<string> {
    if (!(await this.oneTimeTokens.redeemable(this.dataSource.manager, token, purpose))) throw new InvalidOneTimeTokenException();
    return this.passwords.hash(password);
  }

  /** A new verification link and its email, in the caller's transaction. The email names no one (see its context). */
  private async mailVerificationLink(tx: EntityManager, user: User, event: string): Promise<void> {
    const { token, expiresAt } = await this.oneTimeTokens.issue(tx, user.id, 'verify_email');
    await this.outbox.enqueue(tx, {
      event,
      template: 'email-verification',
      to: { email: user.email, userId: user.id, locale: user.locale },
      context: {
        token,
        verifyUrl: this.link('/verify-email', token),
        expiresInHours: ONE_TIME_TOKEN_TTL_HOURS.verify_email,
        linkExpiresAt: expiresAt,
      },
    });
  }

  private link(path: string, token: string): string {
    return this.config.publicUrl(`${path}?token=${encodeURIComponent(token)}`);
  }
}
