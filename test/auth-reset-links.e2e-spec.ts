import { PASSWORD, signedInUser } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';
import { waitUntil } from 'test/support/wait-until';

const API = '/api/v1';
const tokenFrom = (text: string) => /token=([A-Za-z0-9_-]{20,})/.exec(text)?.[1] ?? '';
const NEW_PASSWORD = 'a brand new passphrase';

describe('Password reset links: asking again cancels nothing, using one cancels the rest (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Each request from its own client address, as an attacker's would be; room for several links per account.
    t = await startTestApp({ TRUST_PROXY: '1', LOGIN_MAX_FAILURES_PER_ACCOUNT: '20' });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  const forgot = (email: string, from: string) => t.http.post(`${API}/auth/forgot-password`).set('X-Forwarded-For', from).send({ email });
  const reset = (token: string, password: string) => t.http.post(`${API}/auth/reset-password`).send({ token, password });
  const linksMailedTo = async (email: string, count: number) => {
    await waitUntil(() => t.mail.to(email).length >= count);
    return t.mail.to(email).map((m) => tokenFrom(m.text));
  };

  it("a stranger's request does not kill the link the owner holds; the reset then ends the stranger's link", async () => {
    const owner = await signedInUser(t, 'applicant');
    await forgot(owner.email, '198.51.100.1').expect(202);
    const [a] = await linksMailedTo(owner.email, 1);
    await forgot(owner.email, '203.0.113.66').expect(202);
    const [, b] = await linksMailedTo(owner.email, 2);
    expect(a).not.toBe('');
    expect(b).not.toBe('');
    expect(b).not.toBe(a);

    await reset(a, NEW_PASSWORD).expect(200, { status: 'ok' });
    await t.http.post(`${API}/auth/login`).send({ email: owner.email, password: PASSWORD }).expect(401);
    await t.http.post(`${API}/auth/login`).send({ email: owner.email, password: NEW_PASSWORD }).expect(200);

    const late = await reset(b, 'the stranger wanted this one');
    expect(late.status).toBe(400);
    expect(late.headers['content-type']).toMatch(/application\/problem\+json/);
    const open = (await t.dataSource.query(`SELECT count(*)::int AS n FROM one_time_tokens WHERE user_id = $1 AND used_at IS NULL`, [owner.id])) as { n: number }[];
    expect(open).toEqual([{ n: 0 }]);
  });

  it('two links taken at the same moment: one sets the password, the other is refused (never a deadlock)', async () => {
    const owner = await signedInUser(t, 'applicant');
    await forgot(owner.email, '198.51.100.1').expect(202);
    await forgot(owner.email, '198.51.100.2').expect(202);
    const [x, y] = await linksMailedTo(owner.email, 2);
    // Holding the account's row makes both resets reach the database together, whatever the hashing took.
    const side = t.dataSource.createQueryRunner();
    await side.connect();
    try {
      await side.startTransaction();
      await side.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [owner.id]);
      const answers = Promise.all([reset(x, `${NEW_PASSWORD} x`), reset(y, `${NEW_PASSWORD} y`)]);
      await waitUntil(async () => {
        const [{ n }] = (await t.dataSource.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        )) as { n: number }[];
        return n >= 2;
      });
      await side.commitTransaction();
      const statuses = (await answers).map((r) => r.status).sort();
      expect(statuses).toEqual([200, 400]);
    } finally {
      if (side.isTransactionActive) await side.rollbackTransaction();
      await side.release();
    }
  });
});
