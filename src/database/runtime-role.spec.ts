import { runtimeRoleOf } from 'src/database/runtime-role';

describe('runtimeRoleOf: which role the owner gives row rights to', () => {
  it("is DATABASE_URL's user when DATABASE_OWNER_URL signs in as another", () => {
    expect(runtimeRoleOf('postgres://sprout_app:pw@db/sprout', 'postgres://sprout:pw@db/sprout')).toBe('sprout_app');
    expect(runtimeRoleOf('postgres://sprout%2Dapp@db/sprout', 'postgres://owner@db/sprout')).toBe('sprout-app');
  });

  it('is nobody when there is no owner URL, or both sign in as one user (that role does everything, as before)', () => {
    expect(runtimeRoleOf('postgres://postgres@127.0.0.1:5432/sprout', undefined)).toBeNull();
    expect(runtimeRoleOf('postgres://sprout:a@pool:6432/sprout', 'postgres://sprout:a@db:5432/sprout')).toBeNull();
  });
});
