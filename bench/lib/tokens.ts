import { createHmac } from 'node:crypto';
import type { Pool } from 'pg';

/**
 * Access tokens minted the way TokenService.issue does (HS256 JWT with sid/tv, issuer, audience, subject), over
 * session rows the harness inserts itself: signing in through /auth/login would spend the whole run in argon2.
 */
export function signAccessToken(
  claims: { sub: string; sid: string; tv: number },
  secret: string,
  options: { issuer?: string; audience?: string; ttlSeconds?: number; now?: number } = {},
): string {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const header = { alg: 'HS256', typ: 'JWT' };
  const payload = {
    sid: claims.sid,
    tv: claims.tv,
    iat: now,
    exp: now + (options.ttlSeconds ?? 3 * 3600),
    aud: options.audience ?? 'sprout-api',
    iss: options.issuer ?? 'sprout',
    sub: claims.sub,
  };
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode(header)}.${encode(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** One live session per user and a token for it; returns user id → bearer token. */
export async function mintTokens(pool: Pool, userIds: readonly string[], secret: string): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  const unique = [...new Set(userIds)];
  for (let at = 0; at < unique.length; at += 5000) {
    const chunk = unique.slice(at, at + 5000);
    const { rows } = await pool.query<{ id: string; user_id: string; token_version: number }>(
      `INSERT INTO auth_sessions (user_id, expires_at)
       SELECT u, now() + interval '1 day' FROM unnest($1::uuid[]) u
       RETURNING id, user_id, (SELECT token_version FROM users WHERE users.id = user_id) AS token_version`,
      [chunk],
    );
    for (const row of rows) tokens.set(row.user_id, signAccessToken({ sub: row.user_id, sid: row.id, tv: row.token_version }, secret));
  }
  return tokens;
}
