import { ConfigValidationError, validateEnv } from 'src/config/env.schema';

describe('validateEnv: the reviewer digest schedule', () => {
  it('accepts the defaults and another real zone and schedule', () => {
    expect(validateEnv({})).toMatchObject({ REVIEWER_DIGEST_CRON: '0 8 * * *', REVIEWER_DIGEST_TZ: 'Asia/Shanghai' });
    expect(validateEnv({ REVIEWER_DIGEST_CRON: '30 7 * * 1-5', REVIEWER_DIGEST_TZ: 'Asia/Urumqi' })).toMatchObject({ REVIEWER_DIGEST_TZ: 'Asia/Urumqi' });
  });

  it('stops start-up naming a zone that does not exist or a schedule Bull would refuse (the digest never ran)', () => {
    expect(() => validateEnv({ REVIEWER_DIGEST_TZ: 'Asia/Beijing' })).toThrow(ConfigValidationError);
    expect(() => validateEnv({ REVIEWER_DIGEST_TZ: 'Asia/Beijing' })).toThrow(/REVIEWER_DIGEST_TZ/);
    expect(() => validateEnv({ REVIEWER_DIGEST_CRON: '99 99 * * *' })).toThrow(/REVIEWER_DIGEST_CRON/);
  });
});

describe('validateEnv: settings an operator may mistype (operator testing)', () => {
  const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');

  it('reads true/false words in any case, with spaces, and refuses any other word naming the setting, instead of reading it as false', () => {
    expect(validateEnv({ UPLOADS_SEALED_ONLY: ' TRUE ', MIGRATIONS_RUN: 'no', DATABASE_AUTO_CREATE: '1' })).toMatchObject({ UPLOADS_SEALED_ONLY: true, MIGRATIONS_RUN: false, DATABASE_AUTO_CREATE: true });
    for (const [setting, value] of [['UPLOADS_SEALED_ONLY', 'on'], ['UPLOADS_SEALED_ONLY', 'ture'], ['MIGRATIONS_RUN', 'flase'], ['DATABASE_AUTO_CREATE', 'enabled']]) {
      expect(() => validateEnv({ [setting]: value })).toThrow(`${setting}: ${setting} must be true or false (also 1/0, yes/no)`);
    }
  });

  it('refuses an APP_PUBLIC_URL without its scheme or with a query, a MAIL_FROM without an address, a blank FUND_CONTACT, one key for both data keys', () => {
    expect(() => validateEnv({ APP_PUBLIC_URL: 'fund.example.org' })).toThrow(/APP_PUBLIC_URL: .*http/);
    expect(() => validateEnv({ APP_PUBLIC_URL: 'https://fund.example.org/app?lang=zh' })).toThrow(/APP_PUBLIC_URL: .*query/);
    expect(validateEnv({ APP_PUBLIC_URL: 'https://fund.example.org/sprout/' }).APP_PUBLIC_URL).toBe('https://fund.example.org/sprout/');
    for (const from of ['Sprout Fund Office', 'nobody']) expect(() => validateEnv({ MAIL_FROM: from })).toThrow(/MAIL_FROM: .*must be an address/);
    for (const from of ['no-reply@fund.example.org', '"儿童基金" <no-reply@fund.example.org>']) expect(validateEnv({ MAIL_FROM: from }).MAIL_FROM).toBe(from);
    expect(() => validateEnv({ FUND_CONTACT: '   ' })).toThrow(/FUND_CONTACT: .*blank/);
    expect(() => validateEnv({ DATA_ENCRYPTION_KEY: key(1), DATA_HASH_KEY: key(1) })).toThrow(/DATA_HASH_KEY: must differ from DATA_ENCRYPTION_KEY/);
    expect(validateEnv({ DATA_ENCRYPTION_KEY: key(1), DATA_HASH_KEY: key(2) })).toBeDefined();
  });

  it('refuses a DATABASE_OWNER_URL of another database, or either URL without its user, once the owner is set apart', () => {
    const runtime = 'postgres://sprout_app:pw@db.internal:5432/sprout';
    expect(validateEnv({ DATABASE_URL: runtime, DATABASE_OWNER_URL: 'postgres://sprout:pw@db.internal:5432/sprout' }).DATABASE_OWNER_URL).toBe('postgres://sprout:pw@db.internal:5432/sprout');
    expect(() => validateEnv({ DATABASE_URL: runtime, DATABASE_OWNER_URL: 'postgres://sprout:pw@db.internal:5432/postgres' })).toThrow(
      'DATABASE_OWNER_URL: must name the database DATABASE_URL names ("sprout"), not "postgres"',
    );
    expect(() => validateEnv({ DATABASE_URL: runtime, DATABASE_OWNER_URL: 'postgres://db.internal:5432/sprout' })).toThrow(/DATABASE_OWNER_URL: must name its user/);
    expect(() => validateEnv({ DATABASE_URL: 'postgres://db.internal/sprout', DATABASE_OWNER_URL: 'postgres://sprout@db.internal/sprout' })).toThrow(/DATABASE_URL: must name its user/);
    expect(() => validateEnv({ DATABASE_OWNER_URL: 'mysql://sprout@db/sprout' })).toThrow(/DATABASE_OWNER_URL must be a postgres:\/\/ URL/);
    expect(validateEnv({}).DATABASE_OWNER_URL).toBeUndefined();
  });

});
