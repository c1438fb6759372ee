import { randomUUID } from 'node:crypto';
import { MailedLinksAndQuestionsOfTheOldRules1763700014000 } from '../../migrations/1763700014000-MailedLinksAndQuestionsOfTheOldRules';
import { PasswordService } from 'src/auth/password.service';
import { AppConfig } from 'src/config/app-config';
import { AdminBootstrapService } from 'src/users/admin-bootstrap.service';
import { UsersService } from 'src/users/users.service';
import { login, PASSWORD, signedInUser, uniqueEmail } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

const tokenFrom = (text: string) => /token=([A-Za-z0-9_-]{20,})/.exec(text)?.[1] ?? '';
const P1 = 'the owner chose this one';
const P2 = 'someone else chose this';

/**
 * What an emailed link, a session or an administrator's change is still worth after the account changed: an
 * invitation once a password exists, links of a disabled account, sessions after a new password or role, and two
 * administrators removing each other at once.
 */
describe('Account links and sessions after the account changed (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    jest.restoreAllMocks();
  });

  const acceptInvite = (token: string, password: string) => t.http.post('/api/v1/auth/accept-invite').send({ token, password });
  const resetPassword = (token: string, password: string) => t.http.post('/api/v1/auth/reset-password').send({ token, password });
  const linkTo = async (email: string, path: string) => tokenFrom((await t.mail.waitFor((m) => m.to.includes(email) && m.text.includes(path))).text);

  async function invite(admin: { auth: Record<string, string> }, role = 'reviewer') {
    const email = uniqueEmail('invitee');
    const created = await t.http.post('/api/v1/users').set(admin.auth).send({ email, fullName: 'Zhang Wei', role }).expect(201);
    return { id: created.body.id as string, email, invitation: await linkTo(email, '/accept-invite?token=') };
  }

  async function resetThroughEmail(email: string, password: string) {
    await t.http.post('/api/v1/auth/forgot-password').send({ email }).expect(202);
    await resetPassword(await linkTo(email, '/reset-password?token='), password).expect(200);
  }

  it('an invitation is worthless once the account has a password set through a reset link', async () => {
    const admin = await signedInUser(t, 'admin');
    const { email, invitation } = await invite(admin);
    // The invitation went to spam; the invitee asked for a reset link instead.
    await resetThroughEmail(email, P1);
    const owner = await login(t, email, P1);

    const taken = await acceptInvite(invitation, P2);
    expect(taken.status).toBe(400);
    expect(taken.body.type).toMatch(/invalid-one-time-token$/);
    await t.http.post('/api/v1/auth/login').send({ email, password: P2 }).expect(401);
    // The owner noticed nothing: still signed in, and the password is theirs.
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: owner.refreshToken }).expect(200);
    await login(t, email, P1);
  });

  it('an accepted invitation can be taken only once, and it cancels a reset link mailed before', async () => {
    const admin = await signedInUser(t, 'admin');
    const { email, invitation } = await invite(admin);
    await t.http.post('/api/v1/auth/forgot-password').send({ email }).expect(202);
    const reset = await linkTo(email, '/reset-password?token=');

    await acceptInvite(invitation, P1).expect(200);
    expect((await acceptInvite(invitation, P2)).status).toBe(400);
    expect((await resetPassword(reset, P2)).status).toBe(400);
    await login(t, email, P1);
  });

  it('disabling an account cancels its links: an invitation sent to the wrong person cannot be taken, not even after re-enabling', async () => {
    const admin = await signedInUser(t, 'admin');
    const { id, email, invitation } = await invite(admin);
    await t.http.patch(`/api/v1/users/${id}`).set(admin.auth).send({ disabled: true }).expect(200);
    expect((await acceptInvite(invitation, P2)).status).toBe(400);

    await t.http.patch(`/api/v1/users/${id}`).set(admin.auth).send({ disabled: false }).expect(200);
    expect((await acceptInvite(invitation, P2)).status).toBe(400);
    await t.http.post('/api/v1/auth/login').send({ email, password: P2 }).expect(401);
    const [{ password_hash: hash }] = await t.dataSource.query('SELECT password_hash FROM users WHERE id = $1', [id]);
    expect(hash).toBeNull();
  });

  it('an admin invites again an account that never set a password: a new link works, the earlier ones do not', async () => {
    const admin = await signedInUser(t, 'admin');
    const { id, email, invitation } = await invite(admin);
    // Disabled by mistake, then enabled: its invitation died with the disabling (above), and only a new one lets it in.
    await t.http.patch(`/api/v1/users/${id}`).set(admin.auth).send({ disabled: true }).expect(200);
    const whileDisabled = await t.http.post(`/api/v1/users/${id}/invitation`).set(admin.auth);
    expect([whileDisabled.status, whileDisabled.body.type]).toEqual([409, expect.stringMatching(/account-disabled$/)]);
    await t.http.patch(`/api/v1/users/${id}`).set(admin.auth).send({ disabled: false }).expect(200);
    const again = await t.http.post(`/api/v1/users/${id}/invitation`).set(admin.auth).expect(202);
    expect(again.body).toEqual({ id, status: 'invited', expiresAt: expect.any(String) });
    const newLink = async (...earlier: string[]) =>
      tokenFrom((await t.mail.waitFor((m) => m.to.includes(email) && m.text.includes('/accept-invite?token=') && !earlier.some((x) => m.text.includes(x)))).text);
    const second = await newLink(invitation);
    // A third one cancels the second.
    await t.http.post(`/api/v1/users/${id}/invitation`).set(admin.auth).expect(202);
    expect((await acceptInvite(second, P1)).status).toBe(400);
    const third = await newLink(invitation, second);
    await acceptInvite(third, P1).expect(200);
    await login(t, email, P1);
    // Once it has a password, its owner resets it: no invitation; nor for anyone but an admin, nor for no account.
    const active = await t.http.post(`/api/v1/users/${id}/invitation`).set(admin.auth);
    expect([active.status, active.body.type]).toEqual([409, expect.stringMatching(/account-already-active$/)]);
    const reviewer = await signedInUser(t, 'reviewer');
    await t.http.post(`/api/v1/users/${id}/invitation`).set(reviewer.auth).expect(403);
    await t.http.post(`/api/v1/users/${randomUUID()}/invitation`).set(admin.auth).expect(404);
    const events = (await t.dataSource.query(`SELECT action FROM audit_events WHERE object_id = $1 AND action = 'user.invitation_resent'`, [id])) as object[];
    expect(events).toHaveLength(2);
  });

  it('a reset link mailed before the account was disabled (after a compromise) no longer sets a password', async () => {
    const admin = await signedInUser(t, 'admin');
    const user = await signedInUser(t, 'reviewer');
    await t.http.post('/api/v1/auth/forgot-password').send({ email: user.email }).expect(202);
    const reset = await linkTo(user.email, '/reset-password?token=');
    await t.http.patch(`/api/v1/users/${user.id}`).set(admin.auth).send({ disabled: true }).expect(200);
    await t.http.patch(`/api/v1/users/${user.id}`).set(admin.auth).send({ disabled: false }).expect(200);
    expect((await resetPassword(reset, P2)).status).toBe(400);
    await t.http.post('/api/v1/auth/login').send({ email: user.email, password: P2 }).expect(401);
  });

  it('a role change ends the sessions started before it: their refresh tokens no longer renew them', async () => {
    const admin = await signedInUser(t, 'admin');
    const reviewer = await signedInUser(t, 'reviewer');
    await t.http.patch(`/api/v1/users/${reviewer.id}`).set(admin.auth).send({ role: 'fund_finance' }).expect(200);
    await t.http.get('/api/v1/me').set(reviewer.auth).expect(401);
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: reviewer.refreshToken }).expect(401);
    const fresh = await login(t, reviewer.email);
    const me = await t.http.get('/api/v1/me').set(fresh.auth).expect(200);
    expect(me.body.role).toBe('fund_finance');
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: fresh.refreshToken }).expect(200);
  });

  it('a sign-in whose password check was running while the owner reset the password gets no lasting session', async () => {
    const user = await signedInUser(t, 'applicant');
    const passwords = t.app.get(PasswordService);
    const verify = passwords.verify.bind(passwords);
    let checked!: () => void;
    const passwordChecked = new Promise<void>((resolve) => (checked = resolve));
    let resume!: () => void;
    const resetDone = new Promise<void>((resolve) => (resume = resolve));
    // The attacker's sign-in with the stolen password: held after its check until the owner's reset has committed.
    jest.spyOn(passwords, 'verify').mockImplementationOnce(async (hash, password) => {
      const valid = await verify(hash, password);
      checked();
      await resetDone;
      return valid;
    });
    const stolen = t.http.post('/api/v1/auth/login').send({ email: user.email, password: PASSWORD }).then((r) => r);
    await passwordChecked;
    await resetThroughEmail(user.email, P1);
    resume();

    const attacker = await stolen;
    if (attacker.status === 200) {
      await t.http.get('/api/v1/me').set({ Authorization: `Bearer ${attacker.body.accessToken}` }).expect(401);
      await t.http.post('/api/v1/auth/refresh').send({ refreshToken: attacker.body.refreshToken }).expect(401);
    } else {
      expect(attacker.status).toBe(401);
    }
    await login(t, user.email, P1);
  });

  it('a link that cannot be used is refused before the password it brings is hashed', async () => {
    const hash = jest.spyOn(t.app.get(PasswordService), 'hash');
    expect((await resetPassword('x'.repeat(43), P1)).status).toBe(400);
    expect((await acceptInvite('x'.repeat(43), P1)).status).toBe(400);
    expect(hash).not.toHaveBeenCalled();
  });

  it('two administrators disabling each other at once leave one of them active', async () => {
    const a = await signedInUser(t, 'admin');
    const b = await signedInUser(t, 'admin');
    const users = t.app.get(UsersService) as unknown as { keepOneAdmin: (...args: unknown[]) => Promise<void> };
    const keepOneAdmin = users.keepOneAdmin;
    // Each check waits (up to 2 s) for the other to reach it: on code that lets both in at once, both count the other.
    let arrived = 0;
    let bothArrived!: () => void;
    const together = new Promise<void>((resolve) => (bothArrived = resolve));
    jest.spyOn(users, 'keepOneAdmin').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      if (++arrived === 2) bothArrived();
      await Promise.race([together, new Promise((resolve) => setTimeout(resolve, 2000))]);
      return keepOneAdmin.apply(this, args);
    });
    const [byA, byB] = await Promise.all([
      t.http.patch(`/api/v1/users/${b.id}`).set(a.auth).send({ disabled: true }),
      t.http.patch(`/api/v1/users/${a.id}`).set(b.auth).send({ disabled: true }),
    ]);
    // The second is refused: 403 when it finds itself disabled once it has the lock, 401 when its sign-in check
    // already saw the first's change. Either way one admin stays.
    const [winner, loser] = [byA.status, byB.status].sort();
    expect(winner).toBe(200);
    expect([401, 403]).toContain(loser);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL`);
    expect(n).toBe(1);
  });

  it('an administrator disabled while a request to create a user was in flight creates no one (no admin made by a leaver)', async () => {
    const leaver = await signedInUser(t, 'admin');
    const other = await signedInUser(t, 'admin');
    // The request passed the sign-in check before the other admin disabled the account; its transaction starts after.
    const signedInAs = { id: leaver.id, email: leaver.email, role: 'admin' as const, hospitalId: null, sessionId: randomUUID(), emailVerified: true };
    await t.http.patch(`/api/v1/users/${leaver.id}`).set(other.auth).send({ disabled: true }).expect(200);
    const email = uniqueEmail('accomplice');
    await expect(t.app.get(UsersService).create({ email, fullName: 'Accomplice', role: 'admin', password: P1 }, signedInAs)).rejects.toMatchObject({ status: 403 });
    expect(await t.dataSource.query(`SELECT id FROM users WHERE email = $1`, [email])).toEqual([]);
  });

  it('start-up makes the ADMIN_EMAIL administrator when no administrator can sign in (disabled, or invited and never joined)', async () => {
    const admin = await signedInUser(t, 'admin');
    await invite(admin, 'admin');
    await t.dataSource.query(`UPDATE users SET disabled_at = now() WHERE role = 'admin' AND password_hash IS NOT NULL`);
    const config = t.app.get(AppConfig);
    const email = uniqueEmail('rescue');
    // A weak password is refused when it would be used (not at every start while an admin exists), naming the setting.
    jest.replaceProperty(config, 'env', { ...config.env, ADMIN_EMAIL: email, ADMIN_PASSWORD: 'password123' });
    await expect(t.app.get(AdminBootstrapService).ensureAdmin()).rejects.toThrow(/ADMIN_PASSWORD: is one of the most common passwords/);
    jest.replaceProperty(config, 'env', { ...config.env, ADMIN_EMAIL: email, ADMIN_PASSWORD: P1 });
    await t.app.get(AdminBootstrapService).ensureAdmin();
    jest.replaceProperty(config, 'env', { ...config.env, ADMIN_EMAIL: email, ADMIN_PASSWORD: 'aaaaaaaaaa' });
    await t.app.get(AdminBootstrapService).ensureAdmin(); // an administrator exists: the setting is not read
    const me = await t.http.get('/api/v1/me').set((await login(t, email, P1)).auth).expect(200);
    expect(me.body.role).toBe('admin');
  });

  it('the migration for rows of the old rules cancels invitations of accounts with a password and links of disabled accounts, and drops old emails\' questions', async () => {
    const admin = await signedInUser(t, 'admin');
    const invited = await invite(admin);
    const untouched = await invite(admin);
    const disabled = await signedInUser(t, 'reviewer');
    await t.http.post('/api/v1/auth/forgot-password').send({ email: disabled.email }).expect(202);
    await linkTo(disabled.email, '/reset-password?token=');
    // As the old code left them: a password set beside an open invitation, an account disabled with a link open.
    await t.dataSource.query(`UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = $2) WHERE id = $1`, [invited.id, admin.id]);
    await t.dataSource.query(`UPDATE users SET disabled_at = now() WHERE id = $1`, [disabled.id]);
    const [{ id: old }] = await t.dataSource.query(
      `INSERT INTO notifications (event, template, to_email, locale, context, status, attempts)
       VALUES ('application.info_requested', 'info-requested', 'f@example.org', 'en', '{"fullName":"Li","reference":"SPR-1","message":"diagnosis D61.9","applicationUrl":"u"}', 'sent', 1)
       RETURNING id`,
    );
    const open = async (userId: string) =>
      (await t.dataSource.query(`SELECT purpose FROM one_time_tokens WHERE user_id = $1 AND used_at IS NULL ORDER BY purpose`, [userId])).map((r: { purpose: string }) => r.purpose);
    expect(await open(invited.id)).toEqual(['invitation']);
    expect(await open(disabled.id)).toEqual(['password_reset']);

    const runner = t.dataSource.createQueryRunner();
    try {
      await new MailedLinksAndQuestionsOfTheOldRules1763700014000().up(runner);
    } finally {
      await runner.release();
    }
    expect(await open(invited.id)).toEqual([]);
    expect(await open(disabled.id)).toEqual([]);
    expect(await open(untouched.id)).toEqual(['invitation']);
    const [{ context }] = await t.dataSource.query(`SELECT context FROM notifications WHERE id = $1`, [old]);
    expect(context).toEqual({ fullName: 'Li', reference: 'SPR-1', applicationUrl: 'u' });
  });
});
