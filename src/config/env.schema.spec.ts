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
