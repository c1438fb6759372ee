import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { uniqueEmail } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';
import { startThrowawayProcess } from 'test/support/throwaway-worker';
import { waitUntil } from 'test/support/wait-until';

describe('Email templates a worker does not have (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ NOTIFY_MAX_ATTEMPTS: '3' });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  // During a rolling upgrade the new release's api starts first and writes emails of templates an old worker lacks.
  it('retries an email of a template it does not know, like an SMTP 4xx, instead of killing it on the first try', async () => {
    const family = uniqueEmail('family');
    const [{ id }] = (await t.dataSource.query(
      `INSERT INTO notifications (event, template, to_email, locale, context) VALUES ('grant.anniversary', 'grant-anniversary', $1, 'en', '{}') RETURNING id`,
      [family],
    )) as { id: string }[];
    const row = async () =>
      ((await t.dataSource.query(`SELECT status, attempts, last_error FROM notifications WHERE id = $1`, [id])) as { status: string; attempts: number; last_error: string }[])[0];

    await waitUntil(async () => (await row()).status === 'dead', 20_000);
    expect(await row()).toEqual({
      status: 'dead',
      attempts: 3, // every try NOTIFY_MAX_ATTEMPTS allows, another worker could have taken any of them
      last_error: expect.stringContaining(`Email template file not found: ${join(resolve(t.config.env.TEMPLATES_DIR), 'en', 'grant-anniversary.hbs')}`),
    });
    // (Not "no mail at all": the sink may get an email an earlier test file of this jest worker left in the queue.)
    expect(t.mail.to(family)).toHaveLength(0);
  });
});

describe('A worker started with an incomplete TEMPLATES_DIR (e2e)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sprout-templates-'));
    cpSync(join(__dirname, '..', 'templates'), dir, { recursive: true });
    rmSync(join(dir, 'zh-CN', 'tranche-paid.text.hbs'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // In its own process, as main.ts runs it: a refused start-up leaves no half-built app in the test process.
  it('refuses to start, naming the missing file', async () => {
    const started = startThrowawayProcess({ APP_ROLE: 'worker', TEMPLATES_DIR: dir, QUEUE_PREFIX: `${process.env.QUEUE_PREFIX}-templates`, LOG_LEVEL: 'silent' }, 100_000);
    try {
      await expect(started).rejects.toThrow(`TEMPLATES_DIR: Email template file not found: ${join(dir, 'zh-CN', 'tranche-paid.text.hbs')}`);
    } finally {
      await started.then((worker) => worker.kill(), () => undefined);
    }
  }, 110_000);

  it('does not stop an api, which renders no email', async () => {
    const api = await startTestApp({ APP_ROLE: 'api', TEMPLATES_DIR: dir });
    try {
      await api.http.get('/health/ready').expect(200);
    } finally {
      await api.close();
    }
  });
});
