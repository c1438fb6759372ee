import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull, MoreThan } from 'typeorm';
import { InvalidOneTimeTokenException } from 'src/auth/auth.exceptions';
import { OneTimeToken, OneTimeTokenPurpose } from 'src/auth/one-time-token.entity';
import { newSecret, sha256 } from 'src/auth/secret-token';

export const ONE_TIME_TOKEN_TTL_HOURS: Record<OneTimeTokenPurpose, number> = {
  verify_email: 48,
  invitation: 7 * 24,
  password_reset: 1,
};

@Injectable()
export class OneTimeTokenService {
  async issue(tx: EntityManager, userId: string, purpose: OneTimeTokenPurpose): Promise<string> {
    const secret = newSecret();
    const expiresAt = new Date(Date.now() + ONE_TIME_TOKEN_TTL_HOURS[purpose] * 3_600_000);
    await tx.insert(OneTimeToken, { userId, purpose, tokenHash: sha256(secret), expiresAt });
    return secret;
  }

  /** Marks the token used (once, even under concurrent calls) and returns its user. */
  async consume(tx: EntityManager, secret: string, purpose: OneTimeTokenPurpose): Promise<string> {
    const result = await tx
      .createQueryBuilder()
      .update(OneTimeToken)
      .set({ usedAt: () => 'now()' })
      .where({ tokenHash: sha256(secret), purpose, usedAt: IsNull(), expiresAt: MoreThan(new Date()) })
      .returning(['userId'])
      .execute();
    const row = (result.raw as { user_id: string }[])[0];
    if (!row) throw new InvalidOneTimeTokenException();
    return row.user_id;
  }

  /** A newer link makes older unused ones of the same purpose worthless. */
  async revokeOutstanding(tx: EntityManager, userId: string, purpose: OneTimeTokenPurpose): Promise<void> {
    await tx.update(OneTimeToken, { userId, purpose, usedAt: IsNull() }, { usedAt: new Date() });
  }
}
