import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { pageByCreatedAt } from 'src/common/pagination/created-at-page';
import { decodeCursor, Page } from 'src/common/pagination/pagination';
import { ConflictException, InvalidInputException, ProblemException, ResourceNotFoundException } from 'src/common/problem/problem.exception';
import { AppConfig } from 'src/config/app-config';
import { Hospital } from 'src/hospitals/hospital.entity';
import { OutboxService } from 'src/notifications/outbox.service';
import { ONE_TIME_TOKEN_PURPOSES, ONE_TIME_TOKEN_TTL_HOURS, OneTimeTokenService } from 'src/auth/one-time-token.service';
import { PasswordService } from 'src/auth/password.service';
import { TokenService } from 'src/auth/token.service';
import { ReviewerConflictsService } from 'src/review/reviewer-conflicts.service';
import { CreateUserDto, InvitationDto, UpdateMeDto, UpdateUserDto, UserDto, UserQueryDto } from 'src/users/dto/user.dto';
import { User } from 'src/users/user.entity';

/** Over users: an administrator who can sign in — not disabled, and not an invitee who never set a password. */
export const ADMIN_WHO_CAN_SIGN_IN = `role = 'admin' AND disabled_at IS NULL AND password_hash IS NOT NULL`;

/** pg_advisory_xact_lock key held by every change of a user (update). */
const USERS_CHANGE_LOCK = 727_006;

@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly passwords: PasswordService,
    private readonly oneTimeTokens: OneTimeTokenService,
    private readonly tokens: TokenService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly conflicts: ReviewerConflictsService,
  ) {}

  async me(user: AuthUser): Promise<UserDto> {
    return UserDto.from(await this.dataSource.getRepository(User).findOneByOrFail({ id: user.id }));
  }

  /** The account's own settings; audited when one changes. */
  async updateMe(user: AuthUser, dto: UpdateMeDto): Promise<UserDto> {
    return this.dataSource.transaction(async (tx) => {
      const me = await tx.findOneOrFail(User, { where: { id: user.id }, lock: { mode: 'pessimistic_write' } });
      if (me.locale !== dto.locale) {
        await tx.update(User, { id: me.id }, { locale: dto.locale, updatedAt: new Date() });
        const summary = { from: me.locale, to: dto.locale };
        await this.audit.record(tx, { actor: user, action: 'user.locale_changed', objectType: 'user', objectId: me.id, summary });
        me.locale = dto.locale;
      }
      return UserDto.from(me);
    });
  }

  async create(dto: CreateUserDto, actor: AuthUser | null): Promise<UserDto> {
    const passwordHash = dto.password ? await this.passwords.hash(dto.password) : null;
    try {
      return await this.dataSource.transaction(async (tx) => {
        if (actor) await this.takeUsersTurn(tx, actor);
        // As PATCH does: a hospital sent with another role is a mistake (which role was meant?), not to be dropped.
        if (dto.hospitalId && dto.role !== 'hospital_finance') {
          throw new InvalidInputException([{ field: 'hospitalId', message: 'applies to role hospital_finance only' }]);
        }
        await this.checkHospital(tx, dto.role, dto.hospitalId ?? null);
        const user = await tx.save(
          User,
          tx.create(User, {
            email: dto.email,
            fullName: dto.fullName,
            role: dto.role,
            hospitalId: dto.hospitalId ?? null,
            locale: dto.locale ?? 'zh-CN',
            passwordHash,
            // An admin who sets the password vouches for the address; invitees prove it by accepting.
            emailVerifiedAt: passwordHash ? new Date() : null,
            tokenVersion: 0,
          }),
        );
        if (!passwordHash) await this.sendInvitation(tx, user);
        const conflictsCopied = passwordHash && actor ? await this.copyConflicts(tx, actor.id, user.id) : 0;
        await this.audit.record(tx, {
          actor,
          action: 'user.created',
          objectType: 'user',
          objectId: user.id,
          summary: { role: user.role, hospitalId: user.hospitalId, invited: !passwordHash, ...(conflictsCopied ? { conflictsCopied } : {}) },
        });
        return UserDto.from(user);
      });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new ConflictException('email-taken', 'An account with this email already exists.');
      throw error;
    }
  }

  async list(query: UserQueryDto): Promise<Page<UserDto>> {
    const after = decodeCursor(query.cursor, 'timestamp');
    const qb = this.dataSource.getRepository(User).createQueryBuilder('u').orderBy('u.created_at', 'ASC').addOrderBy('u.id', 'ASC').limit(query.limit + 1);
    if (query.role) qb.andWhere('u.role = :role', { role: query.role });
    if (after) qb.andWhere('(u.created_at, u.id) > (:k::timestamptz, :id::uuid)', { k: after.k, id: after.id });
    return pageByCreatedAt(qb, 'u', query.limit, UserDto.from);
  }

  async update(id: string, dto: UpdateUserDto, actor: AuthUser): Promise<UserDto> {
    return this.dataSource.transaction(async (tx) => {
      await this.takeUsersTurn(tx, actor);
      const user = await tx.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new ResourceNotFoundException('User');
      const before = { role: user.role, hospitalId: user.hospitalId, disabled: Boolean(user.disabledAt) };
      const nameBefore = user.fullName;
      const role = dto.role ?? user.role;
      // The user's own hospital sent back with a role change (a whole form) is no mistake; another hospital is.
      if (dto.hospitalId && role !== 'hospital_finance' && dto.hospitalId !== user.hospitalId) {
        throw new InvalidInputException([{ field: 'hospitalId', message: 'applies to role hospital_finance only' }]);
      }
      // An explicit null is a hospital taken away, not a field left out: refused for hospital finance (checkHospital)
      // rather than silently kept.
      const hospitalId = role === 'hospital_finance' ? (dto.hospitalId === undefined ? user.hospitalId : dto.hospitalId) : null;
      await this.checkHospital(tx, role, hospitalId);
      const disabling = dto.disabled === true && !user.disabledAt;
      const demotingAdmin = user.role === 'admin' && (role !== 'admin' || disabling);
      if (demotingAdmin) await this.keepOneAdmin(tx, user.id);
      if (user.id === actor.id && (disabling || role !== user.role)) {
        throw new ConflictException('self-change-refused', 'Administrators cannot disable themselves or change their own role.');
      }

      user.fullName = dto.fullName ?? user.fullName;
      user.role = role;
      user.hospitalId = hospitalId;
      if (dto.disabled !== undefined) user.disabledAt = dto.disabled ? (user.disabledAt ?? new Date()) : null;
      // A role change or disabling invalidates every token issued before it.
      const securityChange = role !== before.role || hospitalId !== before.hospitalId || disabling;
      if (securityChange) user.tokenVersion += 1;
      await tx.save(User, user);
      // Leaving a hospital's finance office (another role or hospital): its cases are not theirs to review.
      if (before.hospitalId && before.hospitalId !== hospitalId) await this.conflicts.recordLeftHospital(tx, user.id, before.hospitalId, actor);
      if (disabling) {
        await this.tokens.endAllSessions(tx, user.id, 'disabled');
        // Links mailed before (an invitation to the wrong person, a reset after a compromise) die with the account.
        await this.oneTimeTokens.revokeOutstanding(tx, user.id, ...ONE_TIME_TOKEN_PURPOSES);
      }
      const after = { role: user.role, hospitalId: user.hospitalId, disabled: Boolean(user.disabledAt) };
      // Only a real change is audited; a renaming says so without the names (audit summaries carry no personal values).
      const renamed = user.fullName !== nameBefore;
      if (renamed || JSON.stringify(before) !== JSON.stringify(after)) {
        await this.audit.record(tx, { actor, action: 'user.updated', objectType: 'user', objectId: user.id, summary: { before, after, ...(renamed ? { renamed } : {}) } });
      }
      return UserDto.from(user);
    });
  }

  /**
   * POST /users/:id/invitation: a new invitation for an account that never set a password — the first expired (7 days),
   * went to a mailbox that lost it, or died with a disabling. Links of earlier invitations stop working; only an
   * enabled account without a password can be invited (one with a password resets it itself).
   */
  async reinvite(id: string, actor: AuthUser): Promise<InvitationDto> {
    return this.dataSource.transaction(async (tx) => {
      await this.takeUsersTurn(tx, actor);
      const user = await tx.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new ResourceNotFoundException('User');
      // password_hash is never read with the rest of the row (select: false): asked for alone.
      const [{ has_password: hasPassword }] = (await tx.query(`SELECT password_hash IS NOT NULL AS has_password FROM users WHERE id = $1`, [id])) as { has_password: boolean }[];
      if (hasPassword) {
        throw new ConflictException('account-already-active', 'This account already has a password: its owner can reset it from the sign-in page.');
      }
      if (user.disabledAt) throw new ConflictException('account-disabled', 'This account is disabled: enable it first (PATCH /users/{id}).');
      await this.oneTimeTokens.revokeOutstanding(tx, user.id, 'invitation');
      const expiresAt = await this.sendInvitation(tx, user);
      await this.audit.record(tx, { actor, action: 'user.invitation_resent', objectType: 'user', objectId: user.id });
      return { id: user.id, status: 'invited', expiresAt: expiresAt.toISOString() };
    });
  }

  /**
   * One change of users at a time: two admins disabling or demoting each other at once each counted the other as the
   * admin who stays (keepOneAdmin reads committed rows) and left none. The actor was an admin when the request was
   * signed in; another admin's change that committed before (or while this one waited for the lock) may have ended
   * that: a disabled admin's request still in flight must not change users, nor create an admin.
   */
  private async takeUsersTurn(tx: EntityManager, actor: AuthUser): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [USERS_CHANGE_LOCK]);
    const [stillAdmin] = (await tx.query(`SELECT 1 FROM users WHERE id = $1 AND ${ADMIN_WHO_CAN_SIGN_IN}`, [actor.id])) as unknown[];
    if (!stillAdmin) throw new ProblemException(403, 'role-not-allowed', 'Forbidden', 'Your account is no longer an active administrator.');
  }

  /**
   * An account an admin creates with a password is one the admin can sign in as: it takes the admin's conflicts of
   * interest (its own applications, the families and hospitals recorded against it), or a conflicted admin would
   * decide the case through it. How many it took.
   */
  private async copyConflicts(tx: EntityManager, adminId: string, userId: string): Promise<number> {
    const rows = (await tx.query(
      `INSERT INTO reviewer_conflicts (reviewer_id, applicant_id, hospital_id, created_by)
       SELECT $2, rc.applicant_id, rc.hospital_id, $1 FROM reviewer_conflicts rc WHERE rc.reviewer_id = $1 AND rc.applicant_id IS DISTINCT FROM $2
       UNION ALL
       SELECT $2, $1, NULL, $1 WHERE EXISTS (SELECT 1 FROM applications WHERE applicant_id = $1)
       RETURNING id`,
      [adminId, userId],
    )) as unknown[];
    return rows.length;
  }

  private async checkHospital(tx: EntityManager, role: string, hospitalId: string | null): Promise<void> {
    if (role !== 'hospital_finance') return;
    if (!hospitalId) throw new InvalidInputException([{ field: 'hospitalId', message: 'is required for role hospital_finance' }]);
    if (!(await tx.existsBy(Hospital, { id: hospitalId }))) {
      throw new InvalidInputException([{ field: 'hospitalId', message: 'does not name a known hospital' }]);
    }
  }

  /** Another administrator who can sign in must stay. */
  private async keepOneAdmin(tx: EntityManager, leavingId: string): Promise<void> {
    const [{ count }] = (await tx.query(
      `SELECT count(*)::int AS count FROM users WHERE ${ADMIN_WHO_CAN_SIGN_IN} AND id <> $1`,
      [leavingId],
    )) as { count: number }[];
    if (count === 0) throw new ConflictException('last-admin', 'Sprout must keep at least one active administrator.');
  }

  private async sendInvitation(tx: EntityManager, user: User): Promise<Date> {
    const { token, expiresAt } = await this.oneTimeTokens.issue(tx, user.id, 'invitation');
    await this.outbox.enqueue(tx, {
      event: 'user.invited',
      template: 'invitation',
      to: { email: user.email, userId: user.id, locale: user.locale },
      context: {
        fullName: user.fullName,
        role: user.role,
        token,
        acceptUrl: this.config.publicUrl(`/accept-invite?token=${encodeURIComponent(token)}`),
        expiresInDays: ONE_TIME_TOKEN_TTL_HOURS.invitation / 24,
        linkExpiresAt: expiresAt,
        invitedBy: null,
      },
    });
    return expiresAt;
  }
}
