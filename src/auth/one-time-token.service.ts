import { Injectable } from '@nestjs/common';
import { EntityManager, In, IsNull } from 'typeorm';
import { InvalidOneTimeTokenException } from 'src/auth/auth.exceptions';
import { OneTimeToken, OneTimeTokenPurpose } from 'src/auth/one-time-token.entity';
import { SqlPart } from 'src/database/statement-parts';
import { newSecret, sha256 } from 'src/auth/secret-token';

export const ONE_TIME_TOKEN_TTL_HOURS: Record<OneTimeTokenPurpose, number> = {
  verify_email: 48,
  invitation: 7 * 24,
  password_reset: 1,
};

export const ONE_TIME_TOKEN_PURPOSES = Object.keys(ONE_TIME_TOKEN_TTL_HOURS) as OneTimeTokenPurpose[];

/**
 * A link ($1 its hash, $2 its purpose) that can still be taken, over one_time_tokens `t` and users `u`: unused,
 * unexpired, of an account that is not disabled (disabling cancels its links too; this covers one mailed in the same
 * moment), and for an invitation, of an account that has no password yet.
 */
const REDEEMABLE = `t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()
  AND u.id = t.user_id AND u.disabled_at IS NULL AND (t.purpose <> 'invitation' OR u.password_hash IS NULL)`;

@Injectable()
export class OneTimeTokenService {
  /** The secret for the email, and when it stops working (the email carries it: the worker sends no dead link). */
  async issue(tx: EntityManager, userId: string, purpose: OneTimeTokenPurpose): Promise<{ token: string; expiresAt: Date }> {
    const { token, expiresAt, insert } = this.issueOf(userId, purpose);
    await tx.query(insert.sql, insert.params);
    return { token, expiresAt };
  }

  /** What issue() writes, as a statement for a caller that writes it together with its other rows (writeTogether). */
  issueOf(userId: string, purpose: OneTimeTokenPurpose): { token: string; expiresAt: Date; insert: SqlPart } {
    const secret = newSecret();
    const expiresAt = new Date(Date.now() + ONE_TIME_TOKEN_TTL_HOURS[purpose] * 3_600_000);
    return {
      token: secret,
      expiresAt,
      insert: {
        sql: `INSERT INTO one_time_tokens (user_id, purpose, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
        params: [userId, purpose, sha256(secret), expiresAt],
      },
    };
  }

  /**
   * Marks the token used (once, even under concurrent calls) and returns its user, if it is REDEEMABLE. The account's
   * row is locked first, as every other writer of an account's links does (disabling, asking for a reset): two of its
   * links taken at once then queue instead of each holding its own link while waiting to cancel the other's (a deadlock).
   */
  async consume(tx: EntityManager, secret: string, purpose: OneTimeTokenPurpose): Promise<string> {
    await tx.query(
      `SELECT 1 FROM users WHERE id = (SELECT user_id FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2) FOR UPDATE`,
      [sha256(secret), purpose],
    );
    const [rows] = (await tx.query(`UPDATE one_time_tokens t SET used_at = now() FROM users u WHERE ${REDEEMABLE} RETURNING t.user_id`, [
      sha256(secret),
      purpose,
    ])) as [{ user_id: string }[], number];
    if (!rows[0]) throw new InvalidOneTimeTokenException();
    return rows[0].user_id;
  }

  /**
   * Whether consume would take this token now — read only, so that a request with a dead link is refused before the
   * password it brings is hashed (argon2 costs every caller ~19 MiB and tens of milliseconds of the thread pool).
   */
  async redeemable(manager: EntityManager, secret: string, purpose: OneTimeTokenPurpose): Promise<boolean> {
    const rows = (await manager.query(`SELECT 1 FROM one_time_tokens t, users u WHERE ${REDEEMABLE}`, [sha256(secret), purpose])) as unknown[];
    return rows.length > 0;
  }

  /** Makes the user's unused links of these purposes worthless: a link used, a new password, a disabled account. */
  async revokeOutstanding(tx: EntityManager, userId: string, ...purposes: OneTimeTokenPurpose[]): Promise<void> {
    await tx.update(OneTimeToken, { userId, purpose: In(purposes), usedAt: IsNull() }, { usedAt: new Date() });
  }
}
