import { EMPTY_BATCH_SQL, OutboxRetentionService } from 'src/notifications/outbox-retention.service';
import { SAMPLE_TEMPLATE_CONTEXTS } from 'src/notifications/templates/sample-template-contexts';
import { signedInUser, uniqueEmail } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

/** Old emails keep who and when, not what they said (OUTBOX_RETENTION_DAYS). */
describe('Outbox retention (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ OUTBOX_RETENTION_DAYS: '30' });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  /** An outbox row as the relay and worker would have left it, `ageDays` old (written directly: no worker touches it). */
  async function email(status: 'failed' | 'sent' | 'dead', ageDays: number): Promise<string> {
    const [{ id }] = (await t.dataSource.query(
      `INSERT INTO notifications (event, template, to_email, locale, context, status, attempts, created_at, sent_at, updated_at)
       VALUES ('test.application-approved', 'application-approved', $1, 'en', $2, $3, 1, now() - make_interval(days => $4),
               CASE WHEN $3 = 'sent' THEN now() - make_interval(days => $4) END, now())
       RETURNING id`,
      [uniqueEmail('family'), JSON.stringify(SAMPLE_TEMPLATE_CONTEXTS['application-approved']), status, ageDays],
    )) as { id: string }[];
    return id;
  }

  const contextOf = async (id: string) =>
    ((await t.dataSource.query(`SELECT context, status, to_email IS NOT NULL AS has_recipient, sent_at IS NOT NULL AS has_sent_at FROM notifications WHERE id = $1`, [id])) as {
      context: Record<string, unknown>;
      status: string;
      has_recipient: boolean;
      has_sent_at: boolean;
    }[])[0];

  it("empties the contents of sent and dead emails past retention, keeping the row; leaves recent and undelivered ones alone", async () => {
    const oldSent = await email('sent', 31);
    const oldDead = await email('dead', 45);
    const recentSent = await email('sent', 29);
    const oldFailed = await email('failed', 40);

    expect(await t.app.get(OutboxRetentionService).purge()).toBe(2);

    expect(await contextOf(oldSent)).toEqual({ context: {}, status: 'sent', has_recipient: true, has_sent_at: true });
    expect(await contextOf(oldDead)).toMatchObject({ context: {}, status: 'dead' });
    expect((await contextOf(recentSent)).context).toEqual(SAMPLE_TEMPLATE_CONTEXTS['application-approved']);
    // Still to be delivered: its contents are what it will say.
    expect((await contextOf(oldFailed)).context).toEqual(SAMPLE_TEMPLATE_CONTEXTS['application-approved']);
    // Nothing left to do the second time.
    expect(await t.app.get(OutboxRetentionService).purge()).toBe(0);
  });

  it('empties at most so many per pass, the oldest first, leaving the rest to the next pass', async () => {
    const ids: string[] = [];
    for (const age of [40, 35, 33, 31]) ids.push(await email('sent', age));
    expect(await t.app.get(OutboxRetentionService).purge(3, 0)).toBe(3);
    expect((await Promise.all(ids.map(contextOf))).map((r) => Object.keys(r.context).length === 0)).toEqual([true, true, true, false]);
    expect(await t.app.get(OutboxRetentionService).purge(3, 0)).toBe(1);
  });

  it('refuses to retry a dead email whose contents were emptied (409 notification-expired), and retries a recent one', async () => {
    const admin = await signedInUser(t, 'admin');
    const expired = await email('dead', 31);
    const recent = await email('dead', 2);
    await t.app.get(OutboxRetentionService).purge();

    const refused = await t.http.post(`/api/v1/notifications/${expired}/retry`).set(admin.auth);
    expect(refused.status).toBe(409);
    expect(refused.body.type).toMatch(/notification-expired/);
    expect((await contextOf(expired)).status).toBe('dead');
    await t.http.post(`/api/v1/notifications/${recent}/retry`).set(admin.auth).expect(200);
  });

  it('finds what to empty through its partial index, not by reading every email', async () => {
    // One transaction, so the setting and the EXPLAIN share a connection.
    const plan = await t.dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL enable_seqscan = off`);
      return (await tx.query(`EXPLAIN ${EMPTY_BATCH_SQL}`, [30, 1000])) as { 'QUERY PLAN': string }[];
    });
    expect(plan.map((p) => p['QUERY PLAN']).join('\n')).toContain('notifications_retention_idx');
  });
});
