import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isUUID } from 'class-validator';
import { Coalescer, rowsByOrdinal } from 'src/common/batching/coalescer';
import { AppConfig } from 'src/config/app-config';
import { AuthUser, Role } from 'src/common/auth/roles';
import { PreparedQueries } from 'src/database/prepared-queries';
import { AuditService } from 'src/audit/audit.service';
import { AccessClaims, AccessTokens } from 'src/auth/access-tokens';
import { InvalidTokenException } from 'src/auth/auth.exceptions';
import { AuthSession } from 'src/auth/auth-session.entity';
import { RefreshToken } from 'src/auth/refresh-token.entity';
import { newSecret, sameHash, sha256 } from 'src/auth/secret-token';

/**
 * The session check of every authenticated request: a database read each time, so logout and disabling act at once.
 * Checks of concurrent requests go in one statement (see TokenService.sessions); `n` says whose row is whose.
 * The arrays are read through scalar subqueries (BATCH_ARRAYS_NOTE in src/database/prepared-queries.ts): PostgreSQL
 * then keeps one generic plan instead of planning the statement again at every execution.
 */
export const SESSION_USERS = `SELECT c.n::int AS n, u.id, u.email, u.role, u.hospital_id, u.email_verified_at IS NOT NULL AS email_verified
  FROM unnest((SELECT $1::uuid[]), (SELECT $2::uuid[]), (SELECT $3::int[])) WITH ORDINALITY AS c(sid, uid, tv, n)
  JOIN auth_sessions s ON s.id = c.sid AND s.user_id = c.uid
  JOIN users u ON u.id = s.user_id
 WHERE s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL AND u.token_version = c.tv`;
type SessionUserRow = { n: number; id: string; email: string; role: Role; hospital_id: string | null; email_verified: boolean };
const isInt32 = (n: number) => Number.isInteger(n) && n >= -2_147_483_648 && n <= 2_147_483_647;

export type TokenPair = { accessToken: string; refreshToken: string; tokenType: 'Bearer'; expiresIn: number };

/**
 * Access tokens are short-lived JWTs (HS256 only) bound to a session row and the user's token version, so
 * logout, disabling and password changes take effect on the very next request. Refresh tokens are opaque,
 * single-use, stored hashed, and rotate within their session; presenting a used one revokes the session.
 */
@Injectable()
export class TokenService {
  private readonly accessTokens: AccessTokens;
  /**
   * Session checks of requests that arrive together share one statement (one such statement in flight at a time;
   * the checks that come while it runs go together in the next). Each check is still a read made after its request
   * arrived, so a logout committed before a request is seen by it. Under load one statement serves many requests:
   * PostgreSQL's per-statement work and the api's round trip are paid once per batch instead of once per request
   * (bench/HISTORY.md, seventh pass; one in flight rather than two: larger batches, twelfth pass). A check waits at most
   * as long as a request may wait for a pooled connection, then answers 503.
   */
  private readonly sessions: Coalescer<AccessClaims, SessionUserRow | undefined>;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queries: PreparedQueries,
    private readonly audit: AuditService,
  ) {
    const { JWT_SECRET: secret, JWT_ISSUER: issuer, JWT_AUDIENCE: audience, ACCESS_TOKEN_TTL_SECONDS: ttlSeconds } = config.env;
    this.accessTokens = new AccessTokens({ secret, issuer, audience, ttlSeconds });
    this.sessions = new Coalescer((claims) => this.checkSessions(claims), {
      maxItems: 256,
      maxCalls: 1,
      maxWaitMs: config.env.DATABASE_ACQUIRE_TIMEOUT_MS,
    });
  }

  async startSession(tx: EntityManager, user: { id: string; tokenVersion: number }): Promise<TokenPair> {
    const expiresAt = new Date(Date.now() + this.config.env.REFRESH_TOKEN_TTL_DAYS * 86_400_000);
    const session = await tx.save(AuthSession, tx.create(AuthSession, { userId: user.id, expiresAt, tokenVersion: user.tokenVersion }));
    return this.issue(tx, { id: session.id, userId: user.id, expiresAt }, user.tokenVersion);
  }

  async rotate(refreshToken: string): Promise<TokenPair> {
    const parts = refreshToken.split('.');
    const [id, secret] = parts;
    // Exactly `id.secret`; a uuid PostgreSQL can cast: 36 characters of hex and dashes in another pattern were a cast error, a 500.
    if (parts.length !== 2 || !id || !secret || !isUUID(id)) throw new InvalidTokenException('The refresh token is invalid.');
    const outcome = await this.dataSource.transaction(async (tx) => {
      const token = await tx.findOne(RefreshToken, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!token || !sameHash(token.tokenHash, sha256(secret))) return { error: 'invalid' as const };
      const rows = (await tx.query(
        `SELECT s.id, s.user_id, s.expires_at, s.revoked_at, s.token_version, u.token_version AS user_token_version, u.disabled_at
           FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 FOR UPDATE OF s`,
        [token.sessionId],
      )) as { id: string; user_id: string; expires_at: Date; revoked_at: Date | null; token_version: number; user_token_version: number; disabled_at: Date | null }[];
      const session = rows[0];
      if (!session || session.revoked_at || session.disabled_at || session.expires_at < new Date()) return { error: 'invalid' as const };
      // The user's version moved on since the session started (a new password, a new role): the session is over,
      // even one started by a sign-in that checked the old password while the new one was being set.
      if (session.token_version !== session.user_token_version) return { error: 'invalid' as const };
      if (token.usedAt) {
        // Reuse means the token leaked (or a client raced itself): end the whole family.
        await tx.update(AuthSession, { id: session.id }, { revokedAt: new Date(), revokedReason: 'refresh_token_reuse' });
        // How a stolen token shows itself: on the record, as sign-ins and sign-outs are.
        await this.audit.record(tx, { actor: null, action: 'auth.refresh_token_reused', objectType: 'user', objectId: session.user_id, summary: { sessionId: session.id } });
        return { error: 'reused' as const };
      }
      if (token.expiresAt < new Date()) return { error: 'invalid' as const };
      await tx.update(RefreshToken, { id }, { usedAt: new Date() });
      return { pair: await this.issue(tx, { id: session.id, userId: session.user_id, expiresAt: session.expires_at }, session.token_version) };
    });
    if ('error' in outcome) {
      throw new InvalidTokenException(outcome.error === 'reused' ? 'This refresh token was already used; the session has been ended.' : 'The refresh token is invalid.');
    }
    return outcome.pair;
  }

  async authenticate(accessToken: string): Promise<AuthUser> {
    const claims = this.accessTokens.verify(accessToken);
    if (!claims) throw new InvalidTokenException();
    // Checked here, not left to the statement's casts: a value PostgreSQL refuses would fail every check of its batch.
    if (!isUUID(claims.sub, 'all') || !isUUID(claims.sid, 'all') || !isInt32(claims.tv)) throw new InvalidTokenException();
    const user = await this.sessions.submit(claims);
    if (!user) throw new InvalidTokenException();
    return { id: user.id, email: user.email, role: user.role, hospitalId: user.hospital_id, sessionId: claims.sid, emailVerified: user.email_verified };
  }

  private async checkSessions(claims: AccessClaims[]): Promise<(SessionUserRow | undefined)[]> {
    const rows = await this.queries.rows<SessionUserRow>(SESSION_USERS, [claims.map((c) => c.sid), claims.map((c) => c.sub), claims.map((c) => c.tv)]);
    return rowsByOrdinal(rows, claims.length);
  }

  async endSession(sessionId: string, reason: string): Promise<void> {
    await this.dataSource.getRepository(AuthSession).update({ id: sessionId }, { revokedAt: new Date(), revokedReason: reason });
  }

  async endAllSessions(tx: EntityManager, userId: string, reason: string): Promise<void> {
    await tx.query(`UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL`, [userId, reason]);
  }

  private async issue(tx: EntityManager, session: { id: string; userId: string; expiresAt: Date }, tokenVersion: number): Promise<TokenPair> {
    const ttl = this.config.env.ACCESS_TOKEN_TTL_SECONDS;
    const secret = newSecret();
    const refresh = await tx.save(RefreshToken, tx.create(RefreshToken, { sessionId: session.id, tokenHash: sha256(secret), expiresAt: session.expiresAt }));
    const accessToken = this.accessTokens.sign({ sub: session.userId, sid: session.id, tv: tokenVersion });
    return { accessToken, refreshToken: `${refresh.id}.${secret}`, tokenType: 'Bearer', expiresIn: ttl };
  }
}
