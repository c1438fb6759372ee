import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { resolve } from 'node:path';
import { OneTimeTokenService } from 'src/auth/one-time-token.service';
import { RECORD_SENT_SQL } from 'src/notifications/email-delivery.service';
import { OutboxService } from 'src/notifications/outbox.service';
import { EMAIL_QUEUE, SEND_EMAIL_JOB } from 'src/notifications/queue.constants';
import { SAMPLE_TEMPLATE_CONTEXTS } from 'src/notifications/templates/sample-template-contexts';
import { LOCALES, TEMPLATE_NAMES, TemplateName } from 'src/notifications/templates/template-contexts';
import { TemplateRenderer } from 'src/notifications/templates/template-renderer';
import { waitUntil } from 'test/support/wait-until';
import { hospitalBody, PASSWORD, signedInUser, uniqueEmail } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

const CJK = /[\u4e00-\u9fff]/;
const tokenFrom = (text: string) => /token=([A-Za-z0-9_-]{20,})/.exec(text)?.[1] ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Email notifications (e2e)', () => {
  let t: TestApp;
  let queue: Queue;
  const renderer = new TemplateRenderer(resolve(__dirname, '..', 'templates'));

  beforeAll(async () => {
    // A short stuck age so the sweeper test does not wait ten minutes; the sweeper leaves live jobs alone.
    // SMTP timeout 5 s: short enough for the timeout tests, long enough that a busy machine does not time out
    // a send the sink already accepted (which would be a genuine duplicate and fail the exactly-once checks).
    t = await startTestApp({ OUTBOX_STUCK_AFTER_SECONDS: '2', NOTIFY_MAX_ATTEMPTS: '4', SMTP_TIMEOUT_MS: '5000' });
    queue = t.app.get<Queue>(getQueueToken(EMAIL_QUEUE));
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  async function enqueue<N extends TemplateName>(template: N, email: string, locale: 'en' | 'zh-CN' = 'en', context = SAMPLE_TEMPLATE_CONTEXTS[template]) {
    return t.dataSource.transaction((tx) =>
      t.app.get(OutboxService).enqueue(tx, { event: `test.${template}`, template, to: { email, locale }, context }),
    );
  }

  async function row(id: string) {
    const [r] = (await t.dataSource.query('SELECT * FROM notifications WHERE id = $1', [id])) as Record<string, unknown>[];
    return r;
  }

  async function waitForStatus(id: string, status: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await row(id);
      if (r.status === status) return r;
      if (Date.now() > deadline) throw new Error(`notification ${id} is ${String(r.status)}, not ${status}, after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  it('sends every template in both languages exactly once, as rendered, to the right address', async () => {
    const sent: { id: string; email: string; template: TemplateName; locale: 'en' | 'zh-CN' }[] = [];
    for (const template of TEMPLATE_NAMES) {
      for (const locale of LOCALES) {
        const email = uniqueEmail(`${template}-${locale}`.toLowerCase());
        sent.push({ id: await enqueue(template, email, locale), email, template, locale });
      }
    }
    await waitUntil(() => sent.every((s) => t.mail.to(s.email).length > 0), 20_000);
    for (const s of sent) {
      const mails = t.mail.to(s.email);
      expect(mails).toHaveLength(1);
      const expected = renderer.render(s.template, s.locale, SAMPLE_TEMPLATE_CONTEXTS[s.template] as never);
      expect(mails[0].subject).toBe(expected.subject);
      expect(mails[0].text.trim()).toBe(expected.text.trim());
      expect(mails[0].html).toContain('<html');
      expect(mails[0].headers.get('x-sprout-notification')).toBe(s.id);
      expect(mails[0].raw.messageId).toBe(`<${s.id}@sprout.local>`);
      const r = await waitForStatus(s.id, 'sent');
      expect(r).toMatchObject({ attempts: 1, last_error: null, message_id: `<${s.id}@sprout.local>`, smtp_response: expect.stringMatching(/^250 /) });
    }
    // Nothing more to these addresses (the sink may also get an email an earlier test file of this jest worker left queued).
    expect(t.mail.received.filter((m) => sent.some((s) => m.to.includes(s.email)))).toHaveLength(sent.length);
    // The two languages really differ.
    for (const template of TEMPLATE_NAMES) {
      const [zh, en] = LOCALES.map((locale) => t.mail.to(sent.find((s) => s.template === template && s.locale === locale)!.email)[0].subject);
      expect(zh).not.toBe(en);
      expect(CJK.test(zh)).toBe(true);
    }
  });

  it('puts the right content in: amounts in yuan, the reason, the reference', async () => {
    const approved = uniqueEmail('approved');
    const rejected = uniqueEmail('rejected');
    await enqueue('application-approved', approved, 'zh-CN', { ...SAMPLE_TEMPLATE_CONTEXTS['application-approved'], amount: 12345678 });
    await enqueue('application-rejected', rejected, 'en', { ...SAMPLE_TEMPLATE_CONTEXTS['application-rejected'], reason: 'Costs are covered by insurance & aid.' });
    const a = await t.mail.waitForMailTo(approved);
    expect(a.text).toContain('¥123,456.78');
    expect(a.text).toContain('SPR-2026-000123');
    const r = await t.mail.waitForMailTo(rejected);
    expect(r.text).toContain('Costs are covered by insurance & aid.');
    expect(r.html).toContain('Costs are covered by insurance &amp; aid.');
  });

  it('mails registration in the language the family chose, and scrubs the token from the row once sent', async () => {
    const zh = uniqueEmail('zh');
    const en = uniqueEmail('en');
    await t.http.post('/api/v1/auth/register').send({ email: zh, password: PASSWORD, fullName: '李梅', locale: 'zh-CN' }).expect(201);
    await t.http.post('/api/v1/auth/register').send({ email: en, password: PASSWORD, fullName: 'Li Mei', locale: 'en' }).expect(201);
    const zhMail = await t.mail.waitForMailTo(zh);
    const enMail = await t.mail.waitForMailTo(en);
    expect(zhMail.subject).toBe('请确认您的邮箱地址');
    expect(zhMail.text).toContain('感谢您在 Sprout 儿童救助基金注册');
    expect(CJK.test(enMail.subject)).toBe(false);
    expect(enMail.text).toContain('Thank you for registering');
    // Whoever registers writes the name: the email to an address not yet proven theirs does not repeat it.
    for (const [mail, name] of [[zhMail, '李梅'], [enMail, 'Li Mei']] as const) expect(mail.text).not.toContain(name);
    expect(tokenFrom(zhMail.text)).not.toBe(tokenFrom(enMail.text));

    const ids = (await t.dataSource.query(`SELECT id FROM notifications`)) as { id: string }[];
    expect(ids).toHaveLength(2);
    for (const { id } of ids) {
      const sent = await waitForStatus(id, 'sent');
      expect(sent.context).toMatchObject({ token: '[sent]', verifyUrl: '[sent]' });
      expect(JSON.stringify(sent.context)).not.toContain(tokenFrom(zhMail.text));
    }
    await sleep(300);
    expect(t.mail.to(zh)).toHaveLength(1);
    expect(t.mail.to(en)).toHaveLength(1);
  });

  it('invites staff in their own language', async () => {
    const admin = await signedInUser(t, 'admin');
    const email = uniqueEmail('reviewer');
    await t.http.post('/api/v1/users').set(admin.auth).send({ email, fullName: '陈静', role: 'reviewer', locale: 'zh-CN' }).expect(201);
    const mail = await t.mail.waitForMailTo(email);
    expect(CJK.test(mail.subject)).toBe(true);
    expect(mail.text).toContain('陈静');
    expect(tokenFrom(mail.text)).not.toBe('');
  });

  it('records a batch of sends through the primary key, not by walking every queued row (statistics that say few are open)', async () => {
    // A burst: the statistics were taken when every row was sent, then 2,000 emails were queued. Rolled back at the end.
    const plans = await t.dataSource
      .transaction(async (tx) => {
        const insert = (status: string, n: number) =>
          tx.query(
            `INSERT INTO notifications (event, template, to_email, locale, context, status)
             SELECT 'bench.burst', 'email-verification', 'family' || g || '@example.org', 'en', '{}'::jsonb, $1 FROM generate_series(1, $2) g`,
            [status, n],
          );
        await insert('sent', 3000);
        await tx.query('ANALYZE notifications');
        await insert('queued', 2000);
        const ids = ((await tx.query(`SELECT id FROM notifications WHERE status = 'queued' LIMIT 8`)) as { id: string }[]).map((r) => r.id);
        const explain = async (sql: string) =>
          ((await tx.query(`EXPLAIN ${sql}`, [ids, ids.map(() => 'm'), ids.map(() => '250 OK'), ids.map(() => null)])) as { 'QUERY PLAN': string }[])
            .map((r) => r['QUERY PLAN'])
            .join('\n');
        const batch = await explain(RECORD_SENT_SQL);
        // The form it replaced, to show this setting tells the two apart (it walked the status index).
        const before = await explain(RECORD_SENT_SQL.replace(`NOT IN ('sent', 'dead')`, `IN ('pending', 'queued', 'failed')`));
        throw Object.assign(new Error('rollback'), { plans: { batch, before } });
      })
      .catch((error: { plans?: { batch: string; before: string } }) => {
        if (!error.plans) throw error;
        return error.plans;
      });
    expect(plans.batch).toContain('notifications_pkey');
    expect(plans.batch).not.toContain('notifications_status_created_idx');
    expect(plans.before).toContain('notifications_status_created_idx');
  });

  it('sends nothing for a rolled-back transaction', async () => {
    const doomed = uniqueEmail('doomed');
    await expect(
      t.dataSource.transaction(async (tx) => {
        await t.app.get(OutboxService).enqueue(tx, { event: 'test', template: 'password-reset', to: { email: doomed, locale: 'en' }, context: SAMPLE_TEMPLATE_CONTEXTS['password-reset'] });
        throw new Error('the change failed after its email was written');
      }),
    ).rejects.toThrow('the change failed');
    // A later email that does arrive bounds the wait: the relay works in creation order.
    const later = uniqueEmail('later');
    await enqueue('password-reset', later);
    await t.mail.waitForMailTo(later);
    await sleep(300);
    expect(t.mail.to(doomed)).toHaveLength(0);
    expect(t.mail.attemptsTo(doomed)).toHaveLength(0);
    expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE to_email = $1`, [doomed])).toEqual([{ n: 0 }]);
  });

  it('retries a 421 and delivers once', async () => {
    t.mail.replyWith({ reply: 'error', code: 421, message: 'Try again later' });
    const email = uniqueEmail('busy');
    const id = await enqueue('application-submitted', email);
    await t.mail.waitForMailTo(email);
    const r = await waitForStatus(id, 'sent');
    expect(r.attempts).toBe(2);
    expect(r.last_error).toBeNull();
    expect(t.mail.attemptsTo(email).map((a) => a.code)).toEqual([421, 250]);
    await sleep(500);
    expect(t.mail.to(email)).toHaveLength(1);
  });

  it('marks a 550 dead after one attempt; an admin sees it and retries it; it is then delivered once', async () => {
    const admin = await signedInUser(t, 'admin');
    t.mail.replyWith({ reply: 'error', code: 550, message: 'No such mailbox' });
    const email = uniqueEmail('bounce');
    const id = await enqueue('info-requested', email);
    const dead = await waitForStatus(id, 'dead');
    expect(dead.attempts).toBe(1);
    expect(dead.last_error).toMatch(/550/);
    await sleep(500);
    expect(t.mail.attemptsTo(email)).toHaveLength(1);

    const list = await t.http.get('/api/v1/notifications?status=dead').set(admin.auth).expect(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({ id, event: 'test.info-requested', to: email, template: 'info-requested', status: 'dead', attempts: 1, lastError: expect.stringMatching(/550/), sentAt: null }),
    ]);
    const sentList = await t.http.get('/api/v1/notifications?status=sent').set(admin.auth).expect(200);
    expect(sentList.body.items).toEqual([]);

    const retried = await t.http.post(`/api/v1/notifications/${id}/retry`).set(admin.auth).expect(200);
    expect(retried.body).toMatchObject({ id, status: 'pending' });
    const mail = await t.mail.waitForMailTo(email);
    expect(mail.subject).toBe(renderer.render('info-requested', 'en', SAMPLE_TEMPLATE_CONTEXTS['info-requested']).subject);
    const sent = await waitForStatus(id, 'sent');
    expect(sent.attempts).toBe(2);
    await sleep(300);
    expect(t.mail.to(email)).toHaveLength(1);

    const again = await t.http.post(`/api/v1/notifications/${id}/retry`).set(admin.auth);
    expect(again.status).toBe(409);
    expect(again.body.type).toMatch(/notification-not-dead/);
    const audit = (await t.dataSource.query(`SELECT action FROM audit_events WHERE object_id = $1`, [id])) as { action: string }[];
    expect(audit.map((a) => a.action)).toEqual(['notification.retry']);
  });

  it('re-queues a retried notification even when Bull still keeps a failed job with the same id', async () => {
    const admin = await signedInUser(t, 'admin');
    t.mail.replyWith({ reply: 'error', code: 554, message: 'Rejected' });
    const email = uniqueEmail('kept');
    const id = await enqueue('application-rejected', email);
    await waitForStatus(id, 'dead');
    // What a job that stalled too often, or failed its last attempt on a database error, leaves behind.
    await queue.add(SEND_EMAIL_JOB, { notificationId: id }, { jobId: id, delay: 3_600_000 });
    const key = (name: string) => (queue as unknown as { toKey(k: string): string }).toKey(name);
    await queue.client.multi().zrem(key('delayed'), id).zadd(key('failed'), Date.now(), id).hset(key(id), 'failedReason', 'simulated', 'finishedOn', Date.now()).exec();
    expect(await (await queue.getJob(id))!.getState()).toBe('failed');

    await t.http.post(`/api/v1/notifications/${id}/retry`).set(admin.auth).expect(200);
    await t.mail.waitForMailTo(email);
    await waitForStatus(id, 'sent');
    await sleep(300);
    expect(t.mail.to(email)).toHaveLength(1);
  });

  it('aborts a server that never answers the message by the socket timeout, and retries', async () => {
    t.mail.replyWith({ reply: 'hang' });
    const email = uniqueEmail('hang');
    const id = await enqueue('tranche-paid', email);
    const hung = await t.mail.waitForAttempt((a) => a.to.includes(email) && a.reply === 'hang');
    const mail = await t.mail.waitForMailTo(email, 20_000);
    const accepted = t.mail.attemptsTo(email).find((a) => a.reply === 'accept')!;
    // The retry comes after the socket timeout (SMTP_TIMEOUT_MS), not before.
    expect(accepted.at - hung.at).toBeGreaterThanOrEqual(t.config.env.SMTP_TIMEOUT_MS - 100);
    expect(mail.subject).not.toBe('');
    const r = await waitForStatus(id, 'sent');
    expect(r.attempts).toBe(2);
    await sleep(300);
    expect(t.mail.to(email)).toHaveLength(1);
  });

  it('a message the server may have taken (connection lost after it) is tried once more, then left dead instead of sent again', async () => {
    t.mail.replyWith({ reply: 'drop' }, { reply: 'hang' }, { reply: 'drop' });
    const email = uniqueEmail('unconfirmed');
    const id = await enqueue('application-approved', email);
    const r = await waitForStatus(id, 'dead', 20_000);
    expect(r).toMatchObject({ attempts: 2, unconfirmed_sends: 2 });
    expect(r.last_error).toMatch(/after the whole message was sent.*2 times: the recipient probably has it, so it is not sent again.*ETIMEDOUT/);
    expect(t.mail.attemptsTo(email).map((a) => a.reply)).toEqual(['drop', 'hang']);

    // The admin's dead list says so; a retry (the family says it never came) sends it again, with two more chances.
    const admin = await signedInUser(t, 'admin');
    const dead = await t.http.get('/api/v1/notifications?status=dead').set(admin.auth).expect(200);
    expect(dead.body.items.find((n: { id: string }) => n.id === id)).toMatchObject({ unconfirmedSends: 2, lastError: expect.stringMatching(/probably has it/) });
    const retried = await t.http.post(`/api/v1/notifications/${id}/retry`).set(admin.auth).expect(200);
    expect(retried.body).toMatchObject({ status: 'pending', unconfirmedSends: 0 });
    await waitForStatus(id, 'sent', 20_000);
    expect(t.mail.attemptsTo(email).map((a) => a.reply)).toEqual(['drop', 'hang', 'drop', 'accept']);
    expect(t.mail.to(email)).toHaveLength(1);
    expect(await row(id)).toMatchObject({ attempts: 4, unconfirmed_sends: 1 });
  });

  it('a failure before the message went out does not count as a possible delivery', async () => {
    t.mail.replyWith(...Array.from({ length: 3 }, () => ({ reply: 'error' as const, code: 451, message: 'Local error' })));
    const email = uniqueEmail('refused-then-sent');
    const id = await enqueue('tranche-paid', email);
    await waitForStatus(id, 'sent', 20_000);
    expect(await row(id)).toMatchObject({ attempts: 4, unconfirmed_sends: 0 });
  });

  it('aborts a server that never sends its greeting, and retries', async () => {
    t.mail.replyWith({ reply: 'silent' });
    const email = uniqueEmail('silent');
    const id = await enqueue('tranche-paid-hospital', email);
    const started = Date.now();
    await t.mail.waitForMailTo(email, 20_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(t.config.env.SMTP_TIMEOUT_MS - 100);
    const r = await waitForStatus(id, 'sent');
    expect(r.attempts).toBe(2);
    expect(t.mail.to(email)).toHaveLength(1);
  });

  it('marks a notification dead when its last attempt fails', async () => {
    t.mail.replyWith(...Array.from({ length: 4 }, () => ({ reply: 'error' as const, code: 451, message: 'Local error' })));
    const email = uniqueEmail('exhausted');
    const id = await enqueue('reconciliation-exceptions', email);
    const r = await waitForStatus(id, 'dead', 15_000);
    expect(r.attempts).toBe(4);
    expect(r.last_error).toMatch(/451/);
    expect(t.mail.attemptsTo(email)).toHaveLength(4);
    expect(t.mail.to(email)).toHaveLength(0);
  });

  it('a link email whose link expired before it could be sent goes dead instead of out (a retry that outlasted a reset link)', async () => {
    const email = uniqueEmail('late-link');
    const id = await enqueue('password-reset', email, 'en', { ...SAMPLE_TEMPLATE_CONTEXTS['password-reset'], linkExpiresAt: new Date(Date.now() - 1000).toISOString() });
    const live = uniqueEmail('live-link');
    await enqueue('password-reset', live, 'en', { ...SAMPLE_TEMPLATE_CONTEXTS['password-reset'], linkExpiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const r = await waitForStatus(id, 'dead', 15_000);
    expect(r.last_error).toMatch(/link expired/);
    await t.mail.waitForMailTo(live);
    expect(t.mail.attemptsTo(email)).toHaveLength(0);
  });

  it('a link email whose link was cancelled while it waited (another of its links used, a new password) goes dead instead of out', async () => {
    const user = await signedInUser(t, 'applicant');
    const tokens = t.app.get(OneTimeTokenService);
    const linkEmail = (token: string) =>
      t.dataSource.transaction((tx) =>
        t.app.get(OutboxService).enqueue(tx, {
          event: 'test.password-reset',
          template: 'password-reset',
          to: { email: user.email, locale: 'en' },
          context: { ...SAMPLE_TEMPLATE_CONTEXTS['password-reset'], token, resetUrl: `https://sprout.example.org/reset-password?token=${token}` },
        }),
      );
    // Issued, then cancelled (another reset link used) before the worker got to it (as during an SMTP outage).
    const { token: old } = await t.dataSource.transaction((tx) => tokens.issue(tx, user.id, 'password_reset'));
    await t.dataSource.transaction((tx) => tokens.revokeOutstanding(tx, user.id, 'password_reset'));
    const { token: current } = await t.dataSource.transaction((tx) => tokens.issue(tx, user.id, 'password_reset'));
    const cancelled = await linkEmail(old);
    const live = await linkEmail(current);
    const r = await waitForStatus(cancelled, 'dead', 15_000);
    expect(r.last_error).toMatch(/cancelled before it could be sent/);
    await waitForStatus(live, 'sent', 15_000);
    const received = t.mail.to(user.email);
    expect(received).toHaveLength(1);
    expect(received[0].text).toContain(current);
  });

  it("an email waits for its recipient as the account still is: not to a disabled account, nor a hospital's news to someone moved to another", async () => {
    const admin = await signedInUser(t, 'admin');
    const hospitalOf = async () => (await t.http.post('/api/v1/hospitals').set(admin.auth).send(hospitalBody()).expect(201)).body.id as string;
    const [a, b] = [await hospitalOf(), await hospitalOf()];
    const moved = await signedInUser(t, 'hospital_finance', { hospitalId: a });
    const stays = await signedInUser(t, 'hospital_finance', { hospitalId: a });
    const leaver = await signedInUser(t, 'applicant');
    const paidAtA = { ...SAMPLE_TEMPLATE_CONTEXTS['tranche-paid-hospital'], hospitalId: a };
    const ids = await t.dataSource.transaction(async (tx) => {
      const outbox = t.app.get(OutboxService);
      const to = (u: { email: string; id: string }) => ({ email: u.email, userId: u.id, locale: 'en' as const });
      const written = [
        await outbox.enqueue(tx, { event: 'test.paid', template: 'tranche-paid-hospital', to: to(moved), context: paidAtA }),
        await outbox.enqueue(tx, { event: 'test.paid', template: 'tranche-paid-hospital', to: to(stays), context: paidAtA }),
        await outbox.enqueue(tx, { event: 'test.approved', template: 'application-approved', to: to(leaver), context: SAMPLE_TEMPLATE_CONTEXTS['application-approved'] }),
      ];
      // Before the worker gets to them: moved to hospital B, and the family's account disabled.
      await tx.query(`UPDATE users SET hospital_id = $2 WHERE id = $1`, [moved.id, b]);
      await tx.query(`UPDATE users SET disabled_at = now() WHERE id = $1`, [leaver.id]);
      return written;
    });
    expect((await waitForStatus(ids[0], 'dead', 15_000)).last_error).toMatch(/no longer works for the hospital/);
    expect((await waitForStatus(ids[2], 'dead', 15_000)).last_error).toMatch(/disabled/);
    await waitForStatus(ids[1], 'sent', 15_000);
    expect(t.mail.to(moved.email)).toHaveLength(0);
    expect(t.mail.to(leaver.email)).toHaveLength(0);
    expect(t.mail.to(stays.email)).toHaveLength(1);
  });

  it('the sweeper re-drives a row whose job Redis lost', async () => {
    const email = uniqueEmail('lost');
    // A row the relay queued, whose job then vanished (Redis restarted without persistence).
    const [{ id }] = (await t.dataSource.query(
      `INSERT INTO notifications (event, template, to_email, locale, context, status, attempts, queued_at, updated_at)
       VALUES ('test.lost', 'application-approved', $1, 'en', $2, 'queued', 0, now() - interval '1 minute', now() - interval '1 minute')
       RETURNING id`,
      [email, JSON.stringify(SAMPLE_TEMPLATE_CONTEXTS['application-approved'])],
    )) as { id: string }[];
    expect(await queue.getJob(id)).toBeNull();
    await t.mail.waitForMailTo(email, 15_000);
    await waitForStatus(id, 'sent');
    await sleep(300);
    expect(t.mail.to(email)).toHaveLength(1);
  });

  it('a replayed job for a sent row sends nothing', async () => {
    const email = uniqueEmail('replay');
    const id = await enqueue('application-submitted', email);
    await t.mail.waitForMailTo(email);
    await waitForStatus(id, 'sent');
    const replay = await queue.add(SEND_EMAIL_JOB, { notificationId: id }, { jobId: `${id}-replay` });
    // Waits for the replayed job itself (a fixed sleep could check before it ran).
    expect(await replay.finished()).toBe('skipped');
    expect(t.mail.attemptsTo(email)).toHaveLength(1);
  });

  it('shows the queues to admins only', async () => {
    const admin = await signedInUser(t, 'admin');
    const reviewer = await signedInUser(t, 'reviewer');
    const counted = await enqueue('application-submitted', uniqueEmail('counted'));
    // The sink has the mail before it answers 250; the row says "sent" once the (batched) record commits.
    await waitForStatus(counted, 'sent');
    const res = await t.http.get('/api/v1/admin/queues').set(admin.auth).expect(200);
    expect(res.body.queues).toEqual([
      expect.objectContaining({
        name: 'email',
        available: true,
        counts: expect.objectContaining({ waiting: expect.any(Number), active: expect.any(Number), failed: expect.any(Number) }),
        repeatable: [expect.objectContaining({ name: 'reviewer-digest', cron: '0 8 * * *', tz: 'Asia/Shanghai' })],
      }),
    ]);
    expect(res.body.outbox).toEqual({ pending: 0, queued: 0, sent: 1, failed: 0, dead: 0 });
    await t.http.get('/api/v1/admin/queues').set(reviewer.auth).expect(403);
    await t.http.get('/api/v1/admin/queues').expect(401);
    await t.http.get('/api/v1/notifications').set(reviewer.auth).expect(403);
    await t.http.post(`/api/v1/notifications/00000000-0000-4000-8000-000000000000/retry`).set(reviewer.auth).expect(403);
    await t.http.post(`/api/v1/notifications/00000000-0000-4000-8000-000000000000/retry`).set(admin.auth).expect(404);
    await t.http.get('/api/v1/notifications?status=bogus').set(admin.auth).expect(400);
  });

  it("lists an email handed to the queue but not yet sent as pending, the contract's status (queuedAt says where it is)", async () => {
    const admin = await signedInUser(t, 'admin');
    const email = uniqueEmail('in-queue');
    const [{ id }] = (await t.dataSource.query(
      `INSERT INTO notifications (event, template, to_email, locale, context, status, attempts, queued_at)
       VALUES ('test.in_queue', 'application-approved', $1, 'en', $2, 'queued', 0, now()) RETURNING id`,
      [email, JSON.stringify(SAMPLE_TEMPLATE_CONTEXTS['application-approved'])],
    )) as { id: string }[];
    const pending = await t.http.get('/api/v1/notifications?status=pending&limit=100').set(admin.auth).expect(200);
    const row = (pending.body.items as { id: string; status: string; queuedAt: string | null }[]).find((n) => n.id === id);
    expect(row).toMatchObject({ status: 'pending', queuedAt: expect.any(String) });
    const all = await t.http.get('/api/v1/notifications?limit=100').set(admin.auth).expect(200);
    expect((all.body.items as { status: string }[]).every((n) => ['pending', 'sent', 'failed', 'dead'].includes(n.status))).toBe(true);
    expect((await t.http.get('/api/v1/notifications?status=queued').set(admin.auth)).status).toBe(400);
  });

  it('pages through emails written in one transaction without losing any at a page break', async () => {
    const admin = await signedInUser(t, 'admin');
    // One event's emails share their created_at (the transaction's start); a key cut to the millisecond skipped them.
    const written = await t.dataSource.transaction(async (tx) => {
      const outbox = t.app.get(OutboxService);
      const template = 'application-submitted';
      for (let i = 0; i < 4; i++) await outbox.enqueue(tx, { event: `test.${template}`, template, to: { email: uniqueEmail(`same${i}`), locale: 'en' }, context: SAMPLE_TEMPLATE_CONTEXTS[template] });
      return (await tx.query(`SELECT id FROM notifications WHERE created_at = now()`)) as { id: string }[];
    });
    expect(written).toHaveLength(4);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.http.get('/api/v1/notifications').query({ limit: 1, ...(cursor ? { cursor } : {}) }).set(admin.auth).expect(200);
      seen.push(...res.body.items.map((n: { id: string }) => n.id));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(written.map((w) => w.id)));
  });

  it('pages the delivery log newest first', async () => {
    const admin = await signedInUser(t, 'admin');
    for (let i = 0; i < 3; i++) await enqueue('application-submitted', uniqueEmail(`page${i}`));
    const first = await t.http.get('/api/v1/notifications?limit=2').set(admin.auth).expect(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await t.http.get(`/api/v1/notifications?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`).set(admin.auth).expect(200);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const ids = [...first.body.items, ...second.body.items].map((n: { id: string }) => n.id);
    expect(new Set(ids).size).toBe(3);
  });

  it('documents its endpoints in the OpenAPI document', async () => {
    const doc = await t.http.get('/docs-json').expect(200);
    const paths = doc.body.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths['/api/v1/notifications'])).toContain('get');
    expect(Object.keys(paths['/api/v1/notifications/{id}/retry'])).toContain('post');
    expect(Object.keys(paths['/api/v1/admin/queues'])).toContain('get');
    expect(Object.keys(paths['/api/v1/auth/forgot-password'])).toContain('post');
    expect(Object.keys(paths['/api/v1/auth/reset-password'])).toContain('post');
  });
});
