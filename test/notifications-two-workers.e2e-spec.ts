import { SAMPLE_TEMPLATE_CONTEXTS } from 'src/notifications/templates/sample-template-contexts';
import { ReceivedMail } from 'test/support/smtp-sink';
import { startTestApp, TestApp } from 'test/support/test-app';
import { waitUntil } from 'test/support/wait-until';

const EMAILS = 300;
const notificationIdOf = (mail: ReceivedMail) => String(mail.headers.get('x-sprout-notification'));

/**
 * Workers share one outbox and one queue: the relays lock rows with SKIP LOCKED, a job's id is its row's, and a worker
 * starting up re-drives every row in flight (its Redis may have restarted empty). A second worker joining while the
 * first is sending must take a share of the work and send nothing twice.
 */
describe('Two workers sending from one outbox (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Two sends at a time: the first worker still has most of the outbox to go when the second has started.
    t = await startTestApp({ NOTIFY_CONCURRENCY: '2', SMTP_TIMEOUT_MS: '10000' });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  it(`delivers each of ${EMAILS} emails exactly once when a second worker joins midway`, async () => {
    // The first worker's server takes 50 ms a message; the second worker sends to a server of its own (second.mail),
    // so each server shows what its worker sent.
    t.mail.replyWith(...Array.from({ length: EMAILS }, () => ({ reply: 'delay' as const, ms: 50 })));
    const ids = (
      (await t.dataSource.query(
        `INSERT INTO notifications (event, template, to_email, locale, context)
         SELECT 'test.two-workers', 'application-submitted', 'family-' || n || '@example.org', 'en', $1::jsonb FROM generate_series(1, $2::int) n
         RETURNING id`,
        [JSON.stringify(SAMPLE_TEMPLATE_CONTEXTS['application-submitted']), EMAILS],
      )) as { id: string }[]
    ).map((r) => r.id);
    await t.mail.waitForCount(10);

    const second = await startTestApp({ APP_ROLE: 'worker', SMTP_TIMEOUT_MS: '10000' });
    try {
      const unsent = async () =>
        ((await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE status <> 'sent'`)) as { n: number }[])[0].n;
      await waitUntil(async () => (await unsent()) === 0, 30_000);
      await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive now, after its row was recorded

      const byFirst = t.mail.received.map(notificationIdOf);
      const bySecond = second.mail.received.map(notificationIdOf);
      // An email received twice is shown with the servers that got it and its row, to tell a send retried after the
      // server had it (attempts 2, last_error) from two jobs sending at once (attempts 1).
      const servers = new Map<string, string[]>();
      for (const [server, got] of [['first', byFirst], ['second', bySecond]] as const) for (const id of got) servers.set(id, [...(servers.get(id) ?? []), server]);
      const twice = [...servers].filter(([, by]) => by.length > 1).map(([id, by]) => ({ id, by }));
      const rowsOfTwice = twice.length
        ? await t.dataSource.query(`SELECT id, status, attempts, last_error FROM notifications WHERE id = ANY($1)`, [twice.map((d) => d.id)])
        : [];
      expect({ twice, rowsOfTwice }).toEqual({ twice: [], rowsOfTwice: [] });
      expect(byFirst.length).toBeLessThan(EMAILS);
      expect(bySecond.length).toBeGreaterThan(0);
      expect([...byFirst, ...bySecond].sort()).toEqual([...ids].sort());
      // Nor was a message refused or cut short and sent again: each server saw each of its messages once.
      expect(t.mail.attempts).toHaveLength(byFirst.length);
      expect(second.mail.attempts).toHaveLength(bySecond.length);
      const rows = (await t.dataSource.query(
        `SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS message_ids, max(attempts) AS most_attempts FROM notifications`,
      )) as { n: number; message_ids: number; most_attempts: number }[];
      expect(rows).toEqual([{ n: EMAILS, message_ids: EMAILS, most_attempts: 1 }]);
    } finally {
      await second.close();
    }
  });
});
