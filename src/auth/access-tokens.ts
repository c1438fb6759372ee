import { randomUUID } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';

export type AccessClaims = { sub: string; sid: string; tv: number };

export type AccessTokenSettings = { secret: string; issuer: string; audience: string; ttlSeconds: number };

/** fast-jwt checks iss and aud only when present: a token without them must be refused too. */
const REQUIRED_CLAIMS = ['iss', 'aud', 'exp', 'sub', 'sid', 'tv'];

/**
 * Signs and verifies access tokens: HS256 JWTs only, from one issuer to one audience, always with an expiry.
 * fast-jwt compiles these checks once instead of merging options on every call; verification is on every
 * authenticated request (bench/HISTORY.md, tenth pass). The claims are checked here; the session behind them is
 * checked by TokenService, against the database, on every request.
 */
export class AccessTokens {
  private readonly signer: (payload: Record<string, unknown>) => string;
  private readonly verifier: (token: string) => Record<string, unknown>;

  constructor(settings: AccessTokenSettings) {
    const key = Buffer.from(settings.secret, 'utf8');
    this.signer = createSigner({
      key,
      algorithm: 'HS256',
      iss: settings.issuer,
      aud: settings.audience,
      expiresIn: settings.ttlSeconds * 1000,
    });
    this.verifier = createVerifier({
      key,
      algorithms: ['HS256'],
      allowedIss: settings.issuer,
      allowedAud: settings.audience,
      requiredClaims: REQUIRED_CLAIMS,
    });
  }

  /** `jti`: each token its own, so that a refresh within the second of the last one still gives a new pair. */
  sign(claims: AccessClaims): string {
    return this.signer({ sub: claims.sub, sid: claims.sid, tv: claims.tv, jti: randomUUID() });
  }

  /** The token's claims, or null when it is not a valid, unexpired token of ours with well-typed claims. */
  verify(token: string): AccessClaims | null {
    let payload: Record<string, unknown>;
    try {
      payload = this.verifier(token);
    } catch {
      return null;
    }
    const { sub, sid, tv } = payload;
    if (typeof sub !== 'string' || typeof sid !== 'string' || typeof tv !== 'number') return null;
    return { sub, sid, tv };
  }
}
