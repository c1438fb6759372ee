import { validateEnv } from 'src/config/env.schema';
import { AccessTokens } from 'src/auth/access-tokens';

const settings = { secret: 's'.repeat(48), issuer: 'sprout', audience: 'sprout-api', ttlSeconds: 900 };
const claims = { sub: '6b1f0e3c-0000-4000-8000-000000000002', sid: '6b1f0e3c-0000-4000-8000-000000000001', tv: 3 };
const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

describe('AccessTokens', () => {
  afterEach(() => jest.useRealTimers());

  it('signs HS256 tokens with issuer, audience and an expiry of ttlSeconds, and verifies them to their claims', () => {
    const tokens = new AccessTokens(settings);
    const token = tokens.sign(claims);
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    const payload = payloadOf(token);
    expect(payload).toMatchObject({ ...claims, iss: 'sprout', aud: 'sprout-api' });
    expect((payload.exp as number) - (payload.iat as number)).toBe(900);
    expect(tokens.verify(token)).toEqual(claims);
  });

  it('signs a new token each time, even for the same claims within one second (a refresh right after sign-in)', () => {
    jest.useFakeTimers({ now: new Date('2026-12-06T08:00:00Z') });
    const tokens = new AccessTokens(settings);
    const [first, second] = [tokens.sign(claims), tokens.sign(claims)];
    expect(first).not.toBe(second);
    expect(payloadOf(first).jti).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect([tokens.verify(first), tokens.verify(second)]).toEqual([claims, claims]);
  });

  it('refuses tokens of another secret, issuer or audience', () => {
    const token = new AccessTokens(settings).sign(claims);
    expect(new AccessTokens({ ...settings, secret: 't'.repeat(48) }).verify(token)).toBeNull();
    expect(new AccessTokens({ ...settings, issuer: 'other' }).verify(token)).toBeNull();
    expect(new AccessTokens({ ...settings, audience: 'other' }).verify(token)).toBeNull();
  });

  it('refuses a token once it has expired', () => {
    jest.useFakeTimers({ now: new Date('2026-12-06T08:00:00Z') });
    const tokens = new AccessTokens(settings);
    const token = tokens.sign(claims);
    jest.setSystemTime(new Date('2026-12-06T08:14:59Z'));
    expect(tokens.verify(token)).toEqual(claims);
    jest.setSystemTime(new Date('2026-12-06T08:15:01Z'));
    expect(tokens.verify(token)).toBeNull();
  });

  it('is never built without an issuer and an audience to check (an empty setting is an unset one: the defaults)', () => {
    const defaults = validateEnv({});
    expect(defaults.JWT_ISSUER).not.toBe('');
    expect(defaults.JWT_AUDIENCE).not.toBe('');
    expect(validateEnv({ JWT_ISSUER: '', JWT_AUDIENCE: '' })).toMatchObject({ JWT_ISSUER: defaults.JWT_ISSUER, JWT_AUDIENCE: defaults.JWT_AUDIENCE });
  });

  it('refuses garbage without throwing', () => {
    const tokens = new AccessTokens(settings);
    for (const junk of ['', 'a.b.c', 'not a token', '..', `${'x'.repeat(5000)}`]) expect(tokens.verify(junk)).toBeNull();
  });
});
