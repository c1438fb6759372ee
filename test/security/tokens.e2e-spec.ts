import { createHmac, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import { login, PASSWORD, signedInUser, SignedIn } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const b64url = (v: object | Buffer) => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');
const tokenFrom = (text: string) => /token=([A-Za-z0-9_-]{20,})/.exec(text)?.[1] ?? '';

type Claims = Record<string, unknown>;

function decode(jwt: string): { header: Claims; claims: Claims } {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), claims: JSON.parse(Buffer.from(p, 'base64url').toString()) };
}

function hmacJwt(header: Claims, claims: Claims, secret: string, hash = 'sha256'): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

describe('Access tokens under attack (e2e)', () => {
  let t: TestApp;
  let user: SignedIn;
  let secret: string;
  let claims: Claims;

  beforeAll(async () => {
    t = await startTestApp();
    secret = t.config.env.JWT_SECRET!;
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    user = await signedInUser(t, 'admin');
    claims = decode(user.token).claims;
  });

  const me = (token: string) => t.http.get(`${API}/me`).set('Authorization', `Bearer ${token}`);
  const expect401 = async (token: string) => {
    const res = await me(token);
    expect({ status: res.status, type: res.body.type, www: res.headers['www-authenticate'] }).toEqual({
      status: 401,
      type: expect.stringMatching(/token|unauthorized/),
      www: 'Bearer',
    });
  };

  it('the genuine token works and a token re-signed the same way is accepted (the forgeries below differ only where named)', async () => {
    await me(user.token).expect(200);
    await me(hmacJwt({ alg: 'HS256', typ: 'JWT' }, claims, secret)).expect(200);
  });

  const forgeries: [string, () => string][] = [
    ['alg none, no signature', () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`],
    ['alg none with the real signature kept', () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.${user.token.split('.')[2]}`],
    ['alg "None"', () => `${b64url({ alg: 'None', typ: 'JWT' })}.${b64url(claims)}.`],
    ['wrong secret', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, claims, 'not-the-secret-not-the-secret-not-the-secret')],
    ['empty secret', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, claims, '')],
    ['HS512 with the right secret (algorithm pinned to HS256)', () => hmacJwt({ alg: 'HS512', typ: 'JWT' }, claims, secret, 'sha512')],
    ['payload changed, signature kept (role/subject swap)', () => {
      const [h, , s] = user.token.split('.');
      return `${h}.${b64url({ ...claims, tv: (claims.tv as number) + 1 })}.${s}`;
    }],
    ['wrong issuer', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: 'evil' }, secret)],
    ['wrong audience', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'another-api' }, secret)],
    ['no audience', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, aud: undefined }, secret)],
    ['no issuer', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: undefined }, secret)],
    ['no expiry (a token that would never die)', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: undefined }, secret)],
    ['expired a second ago', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iat: Math.floor(Date.now() / 1000) - 901, exp: Math.floor(Date.now() / 1000) - 1 }, secret)],
    ['not yet valid', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, nbf: Math.floor(Date.now() / 1000) + 3600 }, secret)],
    ['stale token version', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, tv: (claims.tv as number) + 1 }, secret)],
    ['tv as a string', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, tv: String(claims.tv) }, secret)],
    ['unknown session id', () => hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, sid: '00000000-0000-4000-8000-000000000000' }, secret)],
    ['garbage', () => 'a.b.c'],
    ['empty', () => ''],
  ];

  it(`refuses ${forgeries.length} forged, tampered, expired or foreign tokens → 401`, async () => {
    const accepted: string[] = [];
    for (const [name, forge] of forgeries) {
      const res = await me(forge());
      if (res.status !== 401 || res.headers['www-authenticate'] !== 'Bearer') accepted.push(`${name}: ${res.status}`);
    }
    expect(accepted).toEqual([]);
    await me(user.token).expect(200);
  });

  it('refuses RS256 tokens, whatever key signed them (no algorithm confusion)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const input = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}`;
    await expect401(`${input}.${rsaSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`);
  });

  it("binds the token to its own session: another user's session id under my subject → 401", async () => {
    const other = await signedInUser(t, 'applicant');
    const otherClaims = decode(other.token).claims;
    await expect401(hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, sid: otherClaims.sid }, secret));
    await expect401(hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...otherClaims, sub: claims.sub }, secret));
  });

  it('refuses a refresh token or a malformed Authorization header as an access token, and an access token as a refresh token', async () => {
    await expect401(user.refreshToken);
    const flipped = user.token.replace(/[a-z]/, (c) => c.toUpperCase());
    for (const header of [`Basic ${Buffer.from(`${user.email}:${PASSWORD}`).toString('base64')}`, `Bearer ${user.token} extra`, `Bearer  ${user.token}`, user.token, `Bearer ${flipped}`, `Bearer: ${user.token}`]) {
      const res = await t.http.get(`${API}/me`).set('Authorization', header);
      expect({ header: header.slice(0, 12), status: res.status }).toEqual({ header: header.slice(0, 12), status: 401 });
    }
    const swapped = await t.http.post(`${API}/auth/refresh`).send({ refreshToken: user.token });
    expect([400, 401]).toContain(swapped.status);
  });

  it('takes the scheme in any letter case (RFC 9110 §11.1), the token only as issued', async () => {
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      const res = await t.http.get(`${API}/me`).set('Authorization', `${scheme} ${user.token}`);
      expect({ scheme, status: res.status, id: res.body.id }).toEqual({ scheme, status: 200, id: user.id });
    }
  });

  it('an access token dies at once after logout, after a password reset and after the user is disabled', async () => {
    // logout
    await t.http.post(`${API}/auth/logout`).set(user.auth).expect(204);
    await expect401(user.token);
    await t.http.post(`${API}/auth/refresh`).send({ refreshToken: user.refreshToken }).expect(401);

    // password reset (the reset ends every session and bumps the token version)
    const family = await signedInUser(t, 'applicant');
    const second = await login(t, family.email);
    await t.http.post(`${API}/auth/forgot-password`).send({ email: family.email }).expect(202);
    const token = tokenFrom((await t.mail.waitForMailTo(family.email)).text);
    await t.http.post(`${API}/auth/reset-password`).send({ token, password: 'another long passphrase' }).expect(200);
    await expect401(family.token);
    await expect401(second.token);
    await t.http.post(`${API}/auth/refresh`).send({ refreshToken: second.refreshToken }).expect(401);
    // A token forged with the old claims re-signed (as if the secret leaked before the reset) is dead too.
    await expect401(hmacJwt({ alg: 'HS256', typ: 'JWT' }, decode(family.token).claims, secret));

    // disable
    const admin = await signedInUser(t, 'admin');
    const reviewer = await signedInUser(t, 'reviewer');
    await t.http.patch(`${API}/users/${reviewer.id}`).set(admin.auth).send({ disabled: true }).expect(200);
    await expect401(reviewer.token);
    await t.http.post(`${API}/auth/refresh`).send({ refreshToken: reviewer.refreshToken }).expect(401);
    await t.http.post(`${API}/auth/login`).send({ email: reviewer.email, password: PASSWORD }).expect(401);
  });

  it('a demoted admin loses admin rights on the very next request (the role is read live, not from the token)', async () => {
    const admin = await signedInUser(t, 'admin');
    await t.http.get(`${API}/users`).set(user.auth).expect(200);
    await t.http.patch(`${API}/users/${user.id}`).set(admin.auth).send({ role: 'reviewer' }).expect(200);
    const res = await t.http.get(`${API}/users`).set(user.auth);
    expect([401, 403]).toContain(res.status);
  });

  it('an expired token from a real login is refused (short TTL app)', async () => {
    const short = await startTestApp({ ACCESS_TOKEN_TTL_SECONDS: '30' });
    try {
      await short.reset();
      const u = await signedInUser(short, 'applicant');
      const c = decode(u.token).claims;
      expect((c.exp as number) - (c.iat as number)).toBe(30);
      // Re-signed 31 s in the past with the app's own secret: only the expiry is wrong.
      const now = Math.floor(Date.now() / 1000);
      const stale = hmacJwt({ alg: 'HS256', typ: 'JWT' }, { ...c, iat: now - 61, exp: now - 31 }, short.config.env.JWT_SECRET!);
      const res = await short.http.get(`${API}/me`).set('Authorization', `Bearer ${stale}`);
      expect(res.status).toBe(401);
    } finally {
      await short.close();
    }
  });
});
