import { applicationWorld, createDraftApplication } from 'test/support/application-factory';
import { login, PASSWORD, uniqueEmail } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';
import { waitUntil } from 'test/support/wait-until';

const API = '/api/v1';
const tokenFrom = (text: string) => /token=([A-Za-z0-9_-]{20,})/.exec(text)?.[1] ?? '';
const SPAM = '您的救助款¥50000待领取 请访问 evil.example';

describe('Email verification: what the email says, and a new link when the first expired (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Every family behind one proxy that appends the address it saw; two resends per account and window, five per address.
    t = await startTestApp({ TRUST_PROXY: '1', LOGIN_MAX_FAILURES_PER_ACCOUNT: '2', LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '5' });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  async function registered(fullName = '李梅', locale: 'en' | 'zh-CN' = 'en') {
    const email = uniqueEmail('family');
    const res = await t.http.post(`${API}/auth/register`).send({ email, password: PASSWORD, fullName, locale });
    expect(res.status).toBe(201);
    const mail = await t.mail.waitForMailTo(email);
    return { id: res.body.id as string, email, mail, firstToken: tokenFrom(mail.text), session: await login(t, email) };
  }
  const resend = (auth: Record<string, string>, from = '203.0.113.1') =>
    t.http.post(`${API}/auth/resend-verification`).set(auth).set('X-Forwarded-For', from).send();
  const verify = (token: string) => t.http.post(`${API}/auth/verify-email`).send({ token });
  const linksMailedTo = async (email: string, count: number) => {
    await waitUntil(() => t.mail.to(email).length >= count);
    return t.mail.to(email).map((m) => tokenFrom(m.text));
  };

  it("greets no one by name: a registrant's name cannot put their text into a fund email to someone else's address", async () => {
    for (const locale of ['en', 'zh-CN'] as const) {
      const { mail } = await registered(SPAM, locale);
      for (const part of [mail.subject, mail.text, mail.html]) {
        expect(part).not.toContain('evil.example');
        expect(part).not.toContain('50000');
      }
      expect(tokenFrom(mail.text)).not.toBe('');
    }
    const contexts = (await t.dataSource.query(`SELECT context FROM notifications WHERE template = 'email-verification'`)) as { context: object }[];
    expect(contexts).toHaveLength(2);
    for (const { context } of contexts) expect(Object.keys(context)).not.toContain('fullName');
  });

  it('a family whose link expired asks for a new one (202), which verifies; the 422 of submit points to it', async () => {
    const { id, email, firstToken, session } = await registered();
    await t.dataSource.query(`UPDATE one_time_tokens SET expires_at = now() - interval '1 minute' WHERE user_id = $1`, [id]);
    await verify(firstToken).expect(400);

    const { hospital } = await applicationWorld(t);
    const draft = await createDraftApplication(t, { ...session, id, role: 'applicant' }, hospital.id);
    const submit = await t.http.post(`${API}/applications/${draft.id}/submit`).set(session.auth).send();
    expect(submit.status).toBe(422);
    expect(submit.body.errors).toContainEqual({ field: 'email', message: expect.stringContaining('POST /api/v1/auth/resend-verification') });

    const res = await resend(session.auth);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted' });
    const [, second] = await linksMailedTo(email, 2);
    expect(second).not.toBe('');
    expect(second).not.toBe(firstToken);
    expect(t.mail.to(email)[1].subject).toBe(t.mail.to(email)[0].subject);

    await verify(second).expect(200);
    const me = await t.http.get(`${API}/me`).set(session.auth).expect(200);
    expect(me.body.emailVerified).toBe(true);
    const events = (await t.dataSource.query(`SELECT action, actor_id FROM audit_events WHERE object_id = $1 ORDER BY id`, [id])) as { action: string; actor_id: string | null }[];
    expect(events.map((e) => e.action)).toEqual(['user.registered', 'auth.login', 'user.verification_resent', 'user.email_verified']);
    expect(events[2].actor_id).toBe(id);
  });

  it('a new link cancels the ones mailed before; once verified, asking again is 409 email-already-verified and writes nothing', async () => {
    const { email, firstToken, session } = await registered();
    await resend(session.auth).expect(202);
    const [, second] = await linksMailedTo(email, 2);
    await verify(firstToken).expect(400);
    await verify(second).expect(200);

    const before = (await t.dataSource.query(`SELECT (SELECT count(*) FROM notifications)::int AS emails, (SELECT count(*) FROM one_time_tokens)::int AS links, (SELECT count(*) FROM audit_events)::int AS events`)) as object[];
    const again = await resend(session.auth);
    expect(again.status).toBe(409);
    expect(again.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(again.body).toMatchObject({ status: 409, type: expect.stringMatching(/\/email-already-verified$/) });
    const after = (await t.dataSource.query(`SELECT (SELECT count(*) FROM notifications)::int AS emails, (SELECT count(*) FROM one_time_tokens)::int AS links, (SELECT count(*) FROM audit_events)::int AS events`)) as object[];
    expect(after).toEqual(before);
  });

  it("one account cannot flood its mailbox: resends capped per account, from any address; its sign-ins untouched", async () => {
    const { id, email, session } = await registered();
    await resend(session.auth, '198.51.100.1').expect(202);
    await resend(session.auth, '198.51.100.2').expect(202);
    const blocked = await resend(session.auth, '198.51.100.3');
    expect(blocked.status).toBe(429);
    expect(blocked.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    const [{ n }] = (await t.dataSource.query(`SELECT count(*)::int AS n FROM one_time_tokens WHERE user_id = $1`, [id])) as { n: number }[];
    expect(n).toBe(3); // the registration's and two resends'
    // The newest link's email goes out; the one before it only if it left before being cancelled (else dead, unsent).
    const statuses = async () =>
      ((await t.dataSource.query(`SELECT status FROM notifications WHERE to_email = $1 ORDER BY created_at`, [email])) as { status: string }[]).map((r) => r.status);
    await waitUntil(async () => (await statuses()).every((s) => s === 'sent' || s === 'dead'));
    expect(await statuses()).toEqual(['sent', expect.stringMatching(/^(sent|dead)$/), 'sent']);
    // Counted apart from sign-ins.
    await login(t, email);
  });

  it('and per client address, apart from sign-ins: the sixth resend from one address is 429, another address goes on', async () => {
    const families = [await registered(), await registered(), await registered()];
    const from = '192.0.2.77';
    for (const f of families.slice(0, 2)) for (let i = 0; i < 2; i++) await resend(f.session.auth, from).expect(202);
    await resend(families[2].session.auth, from).expect(202);
    expect((await resend(families[2].session.auth, from)).status).toBe(429);
    await resend(families[2].session.auth, '192.0.2.78').expect(202);
  });

  it('is for signed-in callers only (401)', async () => {
    const res = await t.http.post(`${API}/auth/resend-verification`).send();
    expect(res.status).toBe(401);
  });
});
