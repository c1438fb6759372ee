import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { EMAIL_QUEUE } from 'src/notifications/queue.constants';
import { LoginThrottleSweepService } from 'src/auth/login-throttle-sweep.service';
import { login, PASSWORD, signedInUser, uniqueEmail } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';
import { waitUntil } from 'test/support/wait-until';

const tokenFrom = (text: string) => /token=([A-Za-z0-9_-]{20,})/.exec(text)?.[1] ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NEW_PASSWORD = 'a brand new passphrase';
/** `YYYY-MM-DD HH:mm` in China time (UTC+8), cut to the minute, as the emails state when a link stops working. */
const chinaTime = (at: Date) => new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');

describe('Password reset by email (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SMTP_TIMEOUT_MS: '10000' }); // no client timeout after the sink accepted, on a busy machine
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  const forgot = (email: string) => t.http.post('/api/v1/auth/forgot-password').send({ email });

  it('answers known and unknown addresses alike, and mails only the known one, in its language', async () => {
    const user = await signedInUser(t, 'applicant', { locale: 'zh-CN' });
    const stranger = uniqueEmail('nobody');
    const known = await forgot(user.email.toUpperCase());
    const unknown = await forgot(stranger);
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(known.body).toEqual({ status: 'accepted' });
    expect(unknown.body).toEqual(known.body);

    const mail = await t.mail.waitForMailTo(user.email);
    expect(mail.subject).toMatch(/[\u4e00-\u9fff]/);
    expect(mail.text).toContain('/reset-password?token=');
    const [{ expires_at: expiresAt }] = await t.dataSource.query(`SELECT expires_at FROM one_time_tokens WHERE user_id = $1`, [user.id]);
    expect(mail.text).toContain(`有效期至北京时间 ${chinaTime(expiresAt)}`);
    await sleep(300);
    expect(t.mail.to(user.email)).toHaveLength(1);
    expect(t.mail.to(stranger)).toHaveLength(0);
  });

  it('sets the new password, ends every session, bumps the token version, and the link works once', async () => {
    const user = await signedInUser(t, 'applicant');
    const other = await login(t, user.email);
    const [{ token_version: before }] = await t.dataSource.query('SELECT token_version FROM users WHERE id = $1', [user.id]);
    await forgot(user.email).expect(202);
    const token = tokenFrom((await t.mail.waitForMailTo(user.email)).text);
    expect(token).not.toBe('');

    await t.http.post('/api/v1/auth/reset-password').send({ token, password: NEW_PASSWORD }).expect(200, { status: 'ok' });

    const [{ token_version: after }] = await t.dataSource.query('SELECT token_version FROM users WHERE id = $1', [user.id]);
    expect(after).toBe(before + 1);
    await t.http.get('/api/v1/me').set(user.auth).expect(401);
    await t.http.get('/api/v1/me').set(other.auth).expect(401);
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    await t.http.post('/api/v1/auth/login').send({ email: user.email, password: PASSWORD }).expect(401);
    const fresh = await login(t, user.email, NEW_PASSWORD);
    await t.http.get('/api/v1/me').set(fresh.auth).expect(200);
    // The owner hears of it at once: a leaked link would otherwise take the account in silence.
    const changed = await t.mail.waitFor((m) => m.to.includes(user.email) && m.subject === 'Your Sprout password was changed');
    expect(changed.text).toContain('Dear Test applicant,');
    expect(changed.text).toMatch(/changed on \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(China time\)/);
    expect(changed.text).toMatch(/https?:\/\/[^\s]+\/forgot-password/);
    expect(changed.text).not.toContain(token);
    expect(changed.text).not.toContain(NEW_PASSWORD);

    const reused = await t.http.post('/api/v1/auth/reset-password').send({ token, password: 'yet another passphrase' });
    expect(reused.status).toBe(400);
    expect(reused.headers['content-type']).toMatch(/application\/problem\+json/);
    const sessions = (await t.dataSource.query(`SELECT revoked_reason FROM auth_sessions WHERE user_id = $1 AND revoked_at IS NOT NULL`, [user.id])) as { revoked_reason: string }[];
    expect(sessions.map((s) => s.revoked_reason)).toEqual(['password_reset', 'password_reset']);
    const audit = (await t.dataSource.query(`SELECT action, summary::text AS summary FROM audit_events WHERE object_id = $1 AND action LIKE 'user.password%' ORDER BY id`, [user.id])) as { action: string; summary: string }[];
    expect(audit.map((a) => a.action)).toEqual(['user.password_reset_requested', 'user.password_reset']);
    expect(audit.map((a) => a.summary).join()).not.toContain(token);
  });

  // Held up by an SMTP outage and sent 55 minutes late, a reset email said "valid for 60 minutes" of a link with 5 left.
  it('a reset email sent late states when its link stops working; one with under 10 minutes left is not sent', async () => {
    const late = await signedInUser(t, 'applicant');
    const tooLate = await signedInUser(t, 'applicant');
    const queue = t.app.get<Queue>(getQueueToken(EMAIL_QUEUE));
    await queue.pause(true); // this worker takes no job: the emails wait, as through an outage
    const lateExpiry = new Date(Date.now() + 25 * 60_000 + 30_000);
    try {
      await forgot(late.email).expect(202);
      await forgot(tooLate.email).expect(202);
      // Time passes while they wait: the links have 25 and 9 minutes left when the worker gets to their emails.
      const leave = async (user: { id: string }, expiry: Date) => {
        await t.dataSource.query(`UPDATE one_time_tokens SET expires_at = $2 WHERE user_id = $1 AND purpose = 'password_reset'`, [user.id, expiry]);
        await t.dataSource.query(`UPDATE notifications SET context = jsonb_set(context, '{linkExpiresAt}', to_jsonb($2::text)) WHERE user_id = $1`, [
          user.id,
          expiry.toISOString(),
        ]);
      };
      await leave(late, lateExpiry);
      await leave(tooLate, new Date(Date.now() + 9 * 60_000));
    } finally {
      await queue.resume(true);
    }

    const mail = await t.mail.waitForMailTo(late.email);
    expect(mail.text).toContain(`it works once and is valid until ${chinaTime(lateExpiry)}, China time`);
    expect(mail.html).toContain(`valid until ${chinaTime(lateExpiry)} (China time)`);
    expect(mail.text).not.toMatch(/valid for|60 minutes/);
    const dead = async () =>
      ((await t.dataSource.query(`SELECT status, last_error FROM notifications WHERE user_id = $1`, [tooLate.id])) as { status: string; last_error: string }[])[0];
    await waitUntil(async () => (await dead()).status === 'dead', 10_000);
    expect((await dead()).last_error).toMatch(/less than 10 minutes left/);
    await sleep(300);
    expect(t.mail.attemptsTo(tooLate.email)).toHaveLength(0);
    // The late one's link still works, as its email says.
    await t.http.post('/api/v1/auth/reset-password').send({ token: tokenFrom(mail.text), password: NEW_PASSWORD }).expect(200);
  });

  it('refuses a short password (400) and leaves the token usable', async () => {
    const user = await signedInUser(t, 'applicant');
    await forgot(user.email).expect(202);
    const token = tokenFrom((await t.mail.waitForMailTo(user.email)).text);
    const short = await t.http.post('/api/v1/auth/reset-password').send({ token, password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.errors).toEqual([expect.objectContaining({ field: 'password' })]);
    await t.http.post('/api/v1/auth/reset-password').send({ token, password: NEW_PASSWORD }).expect(200);
  });

  it('greets by name only an address its owner has verified: a name typed at sign-up by anyone is not mailed to the inbox', async () => {
    const lure = 'Call 400-123-4567 now to claim your grant';
    const unverified = uniqueEmail('unverified');
    await t.http.post('/api/v1/auth/register').send({ email: unverified, password: NEW_PASSWORD, fullName: lure, locale: 'zh-CN' }).expect(201);
    const verified = await signedInUser(t, 'applicant');
    await forgot(unverified).expect(202);
    await forgot(verified.email).expect(202);

    const stranger = await t.mail.waitFor((m) => m.to.includes(unverified.toLowerCase()) && m.text.includes('/reset-password?token='));
    expect(stranger.text).not.toContain(lure);
    expect(stranger.html).not.toContain(lure);
    expect(stranger.text).toMatch(/^您好：/m);
    const owner = await t.mail.waitForMailTo(verified.email);
    expect(owner.text).toMatch(/^Dear Test applicant,$/m);

    // The inbox's owner takes the account with the link: the email saying so does not carry the stranger's text either.
    await t.http.post('/api/v1/auth/reset-password').send({ token: tokenFrom(stranger.text), password: 'my own new passphrase' }).expect(200);
    const changed = await t.mail.waitFor((m) => m.to.includes(unverified.toLowerCase()) && m.subject === '您的 Sprout 密码已修改');
    expect(changed.text).not.toContain(lure);
    expect(changed.text).toMatch(/^您好：/m);
  });

  it('sends nothing to a disabled account, with the same answer', async () => {
    const admin = await signedInUser(t, 'admin');
    const user = await signedInUser(t, 'reviewer');
    await t.http.patch(`/api/v1/users/${user.id}`).set(admin.auth).send({ disabled: true }).expect(200);
    const res = await forgot(user.email);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted' });
    // No link and no email is written (the email would die at sending too, so the mailbox alone proves nothing), and
    // no event names the account: the audit event of the request names only a keyed hash of the address.
    const [{ emails, links, events }] = await t.dataSource.query(
      `SELECT (SELECT count(*)::int FROM notifications WHERE to_email = $1 AND template = 'password-reset') AS emails,
              (SELECT count(*)::int FROM one_time_tokens WHERE user_id = $2::uuid AND purpose = 'password_reset') AS links,
              (SELECT count(*)::int FROM audit_events WHERE object_id = $2::text AND action = 'user.password_reset_requested') AS events`,
      [user.email, user.id],
    );
    expect({ emails, links, events }).toEqual({ emails: 0, links: 0, events: 0 });
  });

  it('throttles repeated requests for one address, known or unknown, the same way', async () => {
    const user = await signedInUser(t, 'applicant');
    const stranger = uniqueEmail('nobody');
    const limit = t.config.env.LOGIN_MAX_FAILURES_PER_ACCOUNT;
    for (let i = 0; i < limit; i++) {
      await forgot(user.email).expect(202);
      await forgot(stranger).expect(202);
    }
    const known = await forgot(user.email);
    const unknown = await forgot(stranger);
    expect(known.status).toBe(429);
    expect(unknown.status).toBe(429);
    // The two windows opened a few milliseconds apart, so retryAfter may differ by a second; nothing else may.
    const { retryAfter: knownRetry, ...knownRest } = known.body;
    const { retryAfter: unknownRetry, ...unknownRest } = unknown.body;
    expect(knownRest).toEqual(unknownRest);
    expect(Math.abs(knownRetry - unknownRetry)).toBeLessThanOrEqual(1);
    // Sign-in is counted apart: the account can still log in.
    await login(t, user.email);
    // One email per accepted request; each new request cancels the links before it, so an email still waiting
    // when its link was cancelled goes dead instead of out. The newest link always goes out.
    const settled = async () =>
      (await t.dataSource.query(`SELECT status, last_error FROM notifications WHERE to_email = $1 AND status IN ('sent', 'dead') ORDER BY created_at`, [
        user.email,
      ])) as { status: string; last_error: string | null }[];
    await waitUntil(async () => (await settled()).length === limit, 15_000);
    const rows = await settled();
    expect(rows).toHaveLength(limit);
    expect(rows[rows.length - 1].status).toBe('sent');
    for (const row of rows.filter((r) => r.status === 'dead')) expect(row.last_error).toMatch(/cancelled before it could be sent/);
    await sleep(300);
    expect(t.mail.to(user.email)).toHaveLength(rows.filter((r) => r.status === 'sent').length);
    expect(t.mail.to(stranger)).toHaveLength(0);
  });

  it('slows the reset emails one address is sent to one an hour past the day\'s number, known or unknown, however many windows pass', async () => {
    const user = await signedInUser(t, 'applicant');
    const stranger = uniqueEmail('nobody');
    const { LOGIN_MAX_FAILURES_PER_ACCOUNT: perWindow, ACCOUNT_EMAILS_PER_DAY: perDay, LOGIN_WINDOW_SECONDS: window } = t.config.env;
    const windowPasses = () =>
      t.dataSource.query(`UPDATE login_throttle SET window_started_at = window_started_at - make_interval(secs => $1 + 1) WHERE window_seconds = $1`, [window]);
    for (let sent = 0; sent < perDay; sent++) {
      if (sent > 0 && sent % perWindow === 0) await windowPasses();
      await forgot(user.email).expect(202);
      await forgot(stranger).expect(202);
    }
    await windowPasses();
    // Past the day's number: one more this hour (the owner can still get a link), then none until the hour is over.
    await forgot(user.email).expect(202);
    await forgot(stranger).expect(202);
    const known = await forgot(user.email);
    const unknown = await forgot(stranger);
    expect([known.status, unknown.status]).toEqual([429, 429]);
    expect(known.body.retryAfter).toBeGreaterThan(window); // the hour's count, not the window's
    expect(known.body.retryAfter).toBeLessThanOrEqual(3600);
    expect(Math.abs(known.body.retryAfter - unknown.body.retryAfter)).toBeLessThanOrEqual(1);
    const [{ n: sent }] = (await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE to_email = $1`, [user.email])) as { n: number }[];
    expect(sent).toBe(perDay + 1);
    // The hourly sweep deletes the windows that ended, not the day's counts nor the hour's.
    await windowPasses();
    await t.app.get(LoginThrottleSweepService).sweep();
    const left = (await t.dataSource.query(`SELECT window_seconds FROM login_throttle ORDER BY window_seconds`)) as { window_seconds: number }[];
    expect(left.map((r) => r.window_seconds)).toEqual([3_600, 3_600, 86_400, 86_400]);
    expect((await forgot(user.email)).status).toBe(429);
    // Its emails delivered (or dead, their links cancelled by the next) before the file ends: none is left in the queue
    // for the next test file's worker.
    await waitUntil(async () => (await t.dataSource.query(`SELECT 1 FROM notifications WHERE status NOT IN ('sent', 'dead')`)).length === 0, 20_000);
  });
});
