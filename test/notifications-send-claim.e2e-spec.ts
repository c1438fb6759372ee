import { setTimeout as sleep } from 'node:timers/promises';
import { CLAIM_ROWS_SQL, EmailDeliveryService, RELEASE_CLAIM_SQL, SendingElsewhereError } from 'src/notifications/email-delivery.service';
import { SAMPLE_TEMPLATE_CONTEXTS } from 'src/notifications/templates/sample-template-contexts';
import { startTestApp, TestApp } from 'test/support/test-app';

/**
 * A send claims its outbox row before it talks to the SMTP server. However a second job for one row comes about (a
 * re-drive that re-added it, the queue handing it out again), it must not send the email while the first is sending
 * it: CI once saw one email of 300 reach both servers of the two-workers test.
 */
describe('One send at a time per email (e2e)', () => {
  let t: TestApp;
  let delivery: EmailDeliveryService;
  beforeAll(async () => {
    t = await startTestApp({ SMTP_TIMEOUT_MS: '10000' });
    delivery = t.app.get(EmailDeliveryService);
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  /** A row in flight whose job is not in the queue: only the calls below send it (the sweeper waits 10 minutes). */
  async function queuedRow(): Promise<string> {
    const [{ id }] = (await t.dataSource.query(
      `INSERT INTO notifications (event, template, to_email, locale, context, status, queued_at)
       VALUES ('test.claim', 'application-submitted', 'family@example.org', 'en', $1::jsonb, 'queued', now()) RETURNING id`,
      [JSON.stringify(SAMPLE_TEMPLATE_CONTEXTS['application-submitted'])],
    )) as { id: string }[];
    return id;
  }
  const rowOf = async (id: string) =>
    ((await t.dataSource.query(`SELECT status, attempts, sending_until FROM notifications WHERE id = $1`, [id])) as { status: string; attempts: number; sending_until: Date | null }[])[0];

  it('sends once when a second job starts while the first is sending; the second finds it sent on its retry', async () => {
    const id = await queuedRow();
    t.mail.replyWith({ reply: 'delay', ms: 500 });
    const first = delivery.deliver(id, false);
    await t.mail.waitForAttempt((a) => a.notificationId === id);
    await expect(delivery.deliver(id, false)).rejects.toBeInstanceOf(SendingElsewhereError);
    await expect(first).resolves.toBe('sent');
    await expect(delivery.deliver(id, false)).resolves.toBe('skipped');
    expect(t.mail.received).toHaveLength(1);
    expect(await rowOf(id)).toEqual({ status: 'sent', attempts: 1, sending_until: null });
  });

  it('sends once when two jobs of one row start together (one statement claims for both)', async () => {
    const id = await queuedRow();
    t.mail.replyWith({ reply: 'delay', ms: 200 });
    const outcomes = await Promise.allSettled([delivery.deliver(id, false), delivery.deliver(id, false)]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).constructor.name)).sort()).toEqual(['SendingElsewhereError', 'sent']);
    await sleep(300);
    expect(t.mail.received).toHaveLength(1);
  });

  it("holds off other sends until a claim left by a dead worker's send runs out", async () => {
    const id = await queuedRow();
    await t.dataSource.query(`UPDATE notifications SET sending_until = now() + interval '1 second' WHERE id = $1`, [id]);
    await expect(delivery.deliver(id, false)).rejects.toBeInstanceOf(SendingElsewhereError);
    expect(t.mail.attempts).toHaveLength(0);
    await sleep(1100);
    await expect(delivery.deliver(id, false)).resolves.toBe('sent');
    expect(t.mail.received).toHaveLength(1);
  });

  it('lets the retry of a send the server refused for now go at once (the claim ends with the failure)', async () => {
    const id = await queuedRow();
    t.mail.replyWith({ reply: 'error', code: 451, message: 'try again later' });
    await expect(delivery.deliver(id, false)).rejects.toThrow(/451/);
    expect(await rowOf(id)).toEqual({ status: 'failed', attempts: 1, sending_until: null });
    await expect(delivery.deliver(id, false)).resolves.toBe('sent');
    expect(await rowOf(id)).toEqual({ status: 'sent', attempts: 2, sending_until: null });
  });

  it("ends a claim by its token read back exactly, whatever the session's DateStyle and TimeZone", async () => {
    const id = await queuedRow();
    await t.dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL TimeZone = 'Asia/Shanghai'`);
      await tx.query(`SET LOCAL DateStyle = 'SQL, DMY'`);
      const [claimed] = (await tx.query(CLAIM_ROWS_SQL, [[id], 60])) as { claimedUntil: string | null }[];
      expect(claimed.claimedUntil).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+08:00$/);
      const [, ended] = (await tx.query(RELEASE_CLAIM_SQL, [id, claimed.claimedUntil])) as [unknown, number];
      expect(ended).toBe(1);
    });
    expect((await rowOf(id)).sending_until).toBeNull();
  });
});
