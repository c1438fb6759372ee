import type { Pool } from 'pg';
import { AccessTokens } from 'src/auth/access-tokens';
import { validateEnv } from 'src/config/env.schema';

/** A bench token must outlive a whole run; the service's own TTL is at most an hour. */
export const BENCH_TOKEN_TTL_SECONDS = 3 * 3600;

/**
 * The service's own signer with its default issuer and audience (the harness starts the service with them), so the
 * bench's tokens are minted exactly as TokenService.issue mints them, over session rows the harness inserts itself:
 * signing in through /auth/login would spend the whole run in argon2.
 */
export function benchAccessTokens(secret: string): AccessTokens {
  const { JWT_ISSUER: issuer, JWT_AUDIENCE: audience } = validateEnv({});
  return new AccessTokens({ secret, issuer, audience, ttlSeconds: BENCH_TOKEN_TTL_SECONDS });
}

/** One live session per user and a token for it; returns user id → bearer token. */
export async function mintTokens(pool: Pool, userIds: readonly string[], secret: string): Promise<Map<string, string>> {
  const signer = benchAccessTokens(secret);
  const tokens = new Map<string, string>();
  const unique = [...new Set(userIds)];
  for (let at = 0; at < unique.length; at += 5000) {
    const chunk = unique.slice(at, at + 5000);
    const { rows } = await pool.query<{ id: string; user_id: string; token_version: number }>(
      `INSERT INTO auth_sessions (user_id, expires_at, token_version)
       SELECT u.id, now() + interval '1 day', u.token_version FROM users u WHERE u.id = ANY ($1::uuid[])
       RETURNING id, user_id, token_version`,
      [chunk],
    );
    for (const row of rows) tokens.set(row.user_id, signer.sign({ sub: row.user_id, sid: row.id, tv: row.token_version }));
  }
  return tokens;
}
