import { createHash, randomUUID } from 'node:crypto';
import { hospitalBody, login, PASSWORD, signedInUser, uniqueEmail } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';
import { waitUntil } from 'test/support/wait-until';

const tokenFrom = (text: string) => /token=([A-Za-z0-9_-]{20,})/.exec(text)?.[1] ?? '';

describe('Accounts (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  async function register(email = uniqueEmail('family'), locale: 'en' | 'zh-CN' = 'en') {
    const res = await t.http.post('/api/v1/auth/register').send({ email, password: PASSWORD, fullName: '李梅', locale });
    return { res, email };
  }

  it('registers, verifies the email with the mailed token, logs in and reads /me', async () => {
    const { res, email } = await register();
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), email, role: 'applicant', emailVerified: false });

    const mail = await t.mail.waitForMailTo(email);
    const token = tokenFrom(mail.text);
    expect(token).not.toBe('');
    expect(mail.to).toEqual([email]);

    await t.http.post('/api/v1/auth/verify-email').send({ token }).expect(200);
    const again = await t.http.post('/api/v1/auth/verify-email').send({ token });
    expect(again.status).toBe(400);
    expect(again.headers['content-type']).toMatch(/application\/problem\+json/);

    const session = await login(t, email);
    const me = await t.http.get('/api/v1/me').set(session.auth).expect(200);
    expect(me.body).toMatchObject({ id: res.body.id, email, fullName: '李梅', role: 'applicant', hospitalId: null, emailVerified: true, locale: 'en' });
    expect(Object.keys(me.body).sort()).toEqual(['createdAt', 'disabled', 'email', 'emailVerified', 'fullName', 'hospitalId', 'id', 'locale', 'role']);
  });

  // DESIGN: argon2id with at least 19 MiB and two passes; refresh tokens stored hashed; 15-minute access tokens.
  it('stores passwords as argon2id (19 MiB, t=2) and refresh tokens only hashed; access tokens last 15 minutes', async () => {
    const { res, email } = await register();
    const [{ password_hash: hash }] = await t.dataSource.query(`SELECT password_hash FROM users WHERE id = $1`, [res.body.id]);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=\d+\$/);
    const [, memory, passes] = /m=(\d+),t=(\d+)/.exec(hash)!;
    expect(Number(memory)).toBeGreaterThanOrEqual(19_456);
    expect(Number(passes)).toBeGreaterThanOrEqual(2);

    await t.dataSource.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [res.body.id]);
    const signIn = await t.http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
    const stored = (await t.dataSource.query(
      `SELECT r.token_hash FROM refresh_tokens r JOIN auth_sessions s ON s.id = r.session_id WHERE s.user_id = $1`,
      [res.body.id],
    )) as { token_hash: string }[];
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(signIn.body.refreshToken);
    expect(stored[0].token_hash).toBe(createHash('sha256').update(signIn.body.refreshToken.split('.').pop()).digest('hex'));
    expect(t.config.env.ACCESS_TOKEN_TTL_SECONDS).toBe(900);
    expect(signIn.body.expiresIn).toBe(900);
    const claims = JSON.parse(Buffer.from(signIn.body.accessToken.split('.')[1], 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(900);
  });

  it('lets anyone set the language of their emails (PATCH /me), audited, and only that', async () => {
    const family = await signedInUser(t, 'applicant', { locale: 'zh-CN' });
    const changed = await t.http.patch('/api/v1/me').set(family.auth).send({ locale: 'en' }).expect(200);
    expect(changed.body).toMatchObject({ id: family.id, locale: 'en' });
    expect((await t.http.get('/api/v1/me').set(family.auth).expect(200)).body.locale).toBe('en');
    await t.http.patch('/api/v1/me').set(family.auth).send({ locale: 'en' }).expect(200); // the same again: nothing to record
    for (const body of [{ locale: 'fr' }, {}, { locale: 'en', role: 'admin' }, { locale: 'en', fullName: 'Someone else' }]) {
      expect({ body, status: (await t.http.patch('/api/v1/me').set(family.auth).send(body)).status }).toEqual({ body, status: 400 });
    }
    await t.http.patch('/api/v1/me').send({ locale: 'en' }).expect(401);
    expect(await t.dataSource.query(`SELECT actor_id, summary FROM audit_events WHERE action = 'user.locale_changed'`)).toEqual([
      { actor_id: family.id, summary: { from: 'zh-CN', to: 'en' } },
    ]);
    expect(await t.dataSource.query(`SELECT role FROM users WHERE id = $1`, [family.id])).toEqual([{ role: 'applicant' }]);
    // The next email is in the language chosen.
    await t.http.post('/api/v1/auth/forgot-password').send({ email: family.email }).expect(202);
    const mail = await t.mail.waitForMailTo(family.email);
    expect(mail.subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('refuses a duplicate email (409) and a short password (400 naming the field)', async () => {
    const { email } = await register();
    const dup = await t.http.post('/api/v1/auth/register').send({ email: email.toUpperCase(), password: PASSWORD, fullName: 'X' });
    expect(dup.status).toBe(409);
    const short = await t.http.post('/api/v1/auth/register').send({ email: uniqueEmail(), password: 'short', fullName: 'X' });
    expect(short.status).toBe(400);
    expect(short.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'password' })]));
    // Ten characters that are no password: spaces, one key held down, the first thing everyone tries.
    for (const [password, message] of [['          ', 'only spaces'], ['aaaaaaaaaaaa', 'one character repeated'], ['woaini1314', 'most common']]) {
      const weak = await t.http.post('/api/v1/auth/register').send({ email: uniqueEmail(), password, fullName: 'X' });
      expect({ password, status: weak.status }).toEqual({ password, status: 400 });
      expect(weak.body.errors).toEqual([{ field: 'password', message: expect.stringContaining(message) }]);
    }
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM users')).toEqual([{ n: 1 }]);
  });

  it("takes a phone as an application's guardian phone is taken: mobile or landline, spaces and dashes dropped", async () => {
    const phoneOf = async (phone: string) => {
      const email = uniqueEmail();
      const res = await t.http.post('/api/v1/auth/register').send({ email, password: PASSWORD, fullName: '李梅', phone });
      expect({ phone, status: res.status }).toEqual({ phone, status: 201 });
      return ((await t.dataSource.query('SELECT phone FROM users WHERE email = $1', [email])) as { phone: string }[])[0].phone;
    };
    expect(await phoneOf('138 0013 8000')).toBe('13800138000');
    expect(await phoneOf('+86 138-0013-8000')).toBe('+8613800138000');
    expect(await phoneOf('021-6438 3000')).toBe('02164383000');
    for (const phone of ['12345', '1380013800a', '+1 415 555 0100']) {
      const res = await t.http.post('/api/v1/auth/register').send({ email: uniqueEmail(), password: PASSWORD, fullName: '李梅', phone });
      expect({ phone, status: res.status, errors: res.body.errors }).toEqual({ phone, status: 400, errors: [{ field: 'phone', message: 'phone must be a mainland China mobile or landline number' }] });
    }
  });

  it('answers wrong password and unknown email with the same 401 body', async () => {
    const { email } = await register();
    const wrong = await t.http.post('/api/v1/auth/login').send({ email, password: 'not the password' });
    const unknown = await t.http.post('/api/v1/auth/login').send({ email: uniqueEmail(), password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('rotates refresh tokens and revokes the whole family on reuse', async () => {
    const { email } = await register();
    const first = await login(t, email);
    const second = await t.http.post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken }).expect(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    // A new pair, access token included, even within the second of the sign-in (same session, same iat).
    expect(second.body.accessToken).not.toBe(first.token);
    await t.http.get('/api/v1/me').set({ Authorization: `Bearer ${second.body.accessToken}` }).expect(200);

    const reuse = await t.http.post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken });
    expect(reuse.status).toBe(401);
    // The reuse ended the session: the newest pair is dead too.
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: second.body.refreshToken }).expect(401);
    await t.http.get('/api/v1/me').set({ Authorization: `Bearer ${second.body.accessToken}` }).expect(401);
    // On the record, once: the later refresh of an ended session is merely invalid.
    const events = (await t.dataSource.query(
      `SELECT e.object_id, e.summary->>'sessionId' AS session_id, s.revoked_reason
         FROM audit_events e JOIN auth_sessions s ON s.id = (e.summary->>'sessionId')::uuid WHERE e.action = 'auth.refresh_token_reused'`,
    )) as object[];
    const [{ id: userId }] = (await t.dataSource.query(`SELECT id FROM users WHERE email = $1`, [email])) as { id: string }[];
    expect(events).toEqual([{ object_id: userId, session_id: expect.any(String), revoked_reason: 'refresh_token_reuse' }]);
  });

  it('answers a malformed refresh token with 401, not a database error', async () => {
    for (const refreshToken of [`${'0'.repeat(36)}.x`, `${'-'.repeat(36)}.x`, 'no-dot-at-all', `${randomUUID().toUpperCase()}.x`, '.x', `${randomUUID()}.`]) {
      const res = await t.http.post('/api/v1/auth/refresh').send({ refreshToken });
      expect([refreshToken, res.status]).toEqual([refreshToken, 401]);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    // A token is exactly its two parts: one with more after it is not the token (and does not use it up).
    const { email } = await register();
    const { refreshToken } = await login(t, email);
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: `${refreshToken}.more` }).expect(401);
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken }).expect(200);
  });

  it('logout kills the access token at once, other sessions live on', async () => {
    const { email } = await register();
    const a = await login(t, email);
    const b = await login(t, email);
    // Labelled JSON without a body, as many generated clients send every request.
    await t.http.post('/api/v1/auth/logout').set(a.auth).set('Content-Type', 'application/json').expect(204);
    // A route that needs a body names what is missing.
    const bodiless = await t.http.post('/api/v1/auth/login').set('Content-Type', 'application/json');
    expect(bodiless.status).toBe(400);
    expect(bodiless.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['email', 'password']));
    await t.http.get('/api/v1/me').set(a.auth).expect(401);
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: a.refreshToken }).expect(401);
    await t.http.get('/api/v1/me').set(b.auth).expect(200);
  });

  it('an admin invites staff; the invitee sets a password; disabling revokes tokens at once', async () => {
    const admin = await signedInUser(t, 'admin');
    const email = uniqueEmail('reviewer');
    const created = await t.http.post('/api/v1/users').set(admin.auth).send({ email, fullName: 'Zhang Wei', role: 'reviewer' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email, role: 'reviewer', emailVerified: false });
    expect(created.body).not.toHaveProperty('passwordHash');

    const invite = await t.mail.waitForMailTo(email);
    await t.http.post('/api/v1/auth/accept-invite').send({ token: tokenFrom(invite.text), password: 'a new long password' }).expect(200);
    const reviewer = await login(t, email, 'a new long password');
    await t.http.get('/api/v1/me').set(reviewer.auth).expect(200);

    const disabled = await t.http.patch(`/api/v1/users/${created.body.id}`).set(admin.auth).send({ disabled: true });
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabled).toBe(true);
    await t.http.get('/api/v1/me').set(reviewer.auth).expect(401);
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: reviewer.refreshToken }).expect(401);
    await t.http.post('/api/v1/auth/login').send({ email, password: 'a new long password' }).expect(401);

    // A whole-form save that sends disabled: null (an empty checkbox state) must not quietly enable the account again.
    const cleared = await t.http.patch(`/api/v1/users/${created.body.id}`).set(admin.auth).send({ fullName: 'Zhang Wei', disabled: null });
    expect(cleared.status).toBe(400);
    expect(cleared.body.errors).toEqual([expect.objectContaining({ field: 'disabled' })]);
    const [{ disabled_at }] = await t.dataSource.query(`SELECT disabled_at FROM users WHERE id = $1`, [created.body.id]);
    expect(disabled_at).not.toBeNull();
  });

  it("an admin disabled by another while their own change waited is refused (403); changes audited only when real", async () => {
    const [a, b, c] = [await signedInUser(t, 'admin'), await signedInUser(t, 'admin'), await signedInUser(t, 'admin')];
    // Hold the users' change lock (pg_advisory_xact_lock(727006)) so that A's request waits behind "B's change".
    const holder = t.dataSource.createQueryRunner();
    await holder.connect();
    try {
      await holder.startTransaction();
      await holder.query('SELECT pg_advisory_xact_lock(727006)');
      const aDisablesB = t.http.patch(`/api/v1/users/${b.id}`).set(a.auth).send({ disabled: true }).then((r) => r);
      // Until A's request, signed in, waits for the lock (a fixed sleep could commit before its sign-in check: 401).
      await waitUntil(async () => {
        const [{ n }] = await t.dataSource.query(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
            WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.objid = 727006 AND NOT l.granted`,
        );
        return n > 0;
      });
      // What B's own request, winning the lock, committed meanwhile: A disabled.
      await holder.query(`UPDATE users SET disabled_at = now(), token_version = token_version + 1 WHERE id = $1`, [a.id]);
      await holder.commitTransaction();
      const res = await aDisablesB;
      expect(res.status).toBe(403);
      const [{ disabled_at }] = await t.dataSource.query(`SELECT disabled_at FROM users WHERE id = $1`, [b.id]);
      expect(disabled_at).toBeNull();
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }

    // A hospital for a reviewer is a mistake, not a silent no-op; the same name again changes (and audits) nothing.
    const bad = await t.http.patch(`/api/v1/users/${b.id}`).set(c.auth).send({ hospitalId: '00000000-0000-4000-8000-000000000000' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'hospitalId' })]);
    await t.http.patch(`/api/v1/users/${b.id}`).set(c.auth).send({ fullName: 'Renamed Admin' }).expect(200);
    await t.http.patch(`/api/v1/users/${b.id}`).set(c.auth).send({ fullName: 'Renamed Admin' }).expect(200);
    const events = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action = 'user.updated'`, [b.id]);
    expect(events).toEqual([{ summary: expect.objectContaining({ renamed: true }) }]);
    expect(JSON.stringify(events)).not.toContain('Renamed Admin');
  });

  it('pages through the users one at a time, each once', async () => {
    const admin = await signedInUser(t, 'admin');
    for (let i = 0; i < 3; i++) await t.http.post('/api/v1/users').set(admin.auth).send({ email: uniqueEmail(`page${i}`), fullName: `Page ${i}`, role: 'reviewer' }).expect(201);
    const everyone = (await t.dataSource.query(`SELECT id FROM users`)) as { id: string }[];
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page <= everyone.length + 1; page++) {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.http.get('/api/v1/users').query({ limit: 1, ...(cursor ? { cursor } : {}) }).set(admin.auth).expect(200);
      seen.push(...res.body.items.map((u: { id: string }) => u.id));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    // With the key cut to the millisecond, every page after the first began again with the same user.
    expect(seen.sort()).toEqual(everyone.map((u) => u.id).sort());
  });

  it('hospital_finance users need a known hospital', async () => {
    const admin = await signedInUser(t, 'admin');
    const res = await t.http.post('/api/v1/users').set(admin.auth).send({ email: uniqueEmail(), fullName: 'X', role: 'hospital_finance' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'hospitalId' })]);
    const unknown = await t.http
      .post('/api/v1/users')
      .set(admin.auth)
      .send({ email: uniqueEmail(), fullName: 'X', role: 'hospital_finance', hospitalId: randomUUID() });
    expect(unknown.status).toBe(400);
    // A hospital's id in capitals is that hospital, stored and answered as PostgreSQL writes it.
    const hospital = (await t.http.post('/api/v1/hospitals').set(admin.auth).send(hospitalBody()).expect(201)).body.id as string;
    const shouted = await t.http.post('/api/v1/users').set(admin.auth).send({ email: uniqueEmail(), fullName: 'X', role: 'hospital_finance', hospitalId: hospital.toUpperCase() });
    expect([shouted.status, shouted.body.hospitalId]).toEqual([201, hospital]);
    // A hospital sent with another role is refused, as PATCH refuses it, not silently dropped.
    const stray = await t.http.post('/api/v1/users').set(admin.auth).send({ email: uniqueEmail(), fullName: 'X', role: 'reviewer', hospitalId: hospital });
    expect(stray.status).toBe(400);
    expect(stray.body.errors).toEqual([expect.objectContaining({ field: 'hospitalId' })]);
    // Nor is a hospital taken away by null silently kept: hospital finance needs one (disable the account instead).
    const detached = await t.http.patch(`/api/v1/users/${shouted.body.id}`).set(admin.auth).send({ hospitalId: null });
    expect([detached.status, detached.body.errors]).toEqual([400, [expect.objectContaining({ field: 'hospitalId', message: expect.stringContaining('required') })]]);
    const moved = await t.http.patch(`/api/v1/users/${shouted.body.id}`).set(admin.auth).send({ role: 'reviewer', hospitalId: null }).expect(200);
    expect(moved.body).toMatchObject({ role: 'reviewer', hospitalId: null });
  });

  it('denies admin routes to other roles (403) and anonymous callers (401)', async () => {
    const family = await signedInUser(t, 'applicant');
    const reviewer = await signedInUser(t, 'reviewer');
    for (const who of [family, reviewer]) {
      const res = await t.http.get('/api/v1/users').set(who.auth);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    await t.http.get('/api/v1/users').expect(401);
    await t.http.get('/api/v1/users').set({ Authorization: 'Bearer not-a-jwt' }).expect(401);
  });

  it('refuses unknown body fields with 400 problem+json naming them', async () => {
    const res = await t.http.post('/api/v1/auth/register').send({ email: uniqueEmail(), password: PASSWORD, fullName: 'X', role: 'admin' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, title: expect.any(String), type: expect.stringContaining('validation') });
    expect(res.body.errors).toEqual([{ field: 'role', message: 'is not an accepted field' }]);
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM users')).toEqual([{ n: 0 }]);
  });

  it('throttles login per account after repeated failures (429)', async () => {
    const { email } = await register();
    for (let i = 0; i < t.config.env.LOGIN_MAX_FAILURES_PER_ACCOUNT; i++) {
      await t.http.post('/api/v1/auth/login').send({ email, password: 'wrong password!' }).expect(401);
    }
    const blocked = await t.http.post('/api/v1/auth/login').send({ email, password: PASSWORD });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('writes an audit event for logins', async () => {
    const { email } = await register();
    await login(t, email);
    const rows = await t.dataSource.query(`SELECT action FROM audit_events ORDER BY id`);
    expect(rows.map((r: { action: string }) => r.action)).toEqual(['user.registered', 'auth.login']);
  });
});
