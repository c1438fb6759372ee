import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { EMAIL_QUEUE } from 'src/notifications/queue.constants';
import { ReviewerDigestScheduler } from 'src/notifications/reviewer-digest.scheduler';
import { localDay } from 'src/notifications/reviewer-digest.service';
import { applicationWorld, createSubmittedApplication } from 'test/support/application-factory';
import { signedInUser } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';
import { waitUntil } from 'test/support/wait-until';

/**
 * The day's scheduled run failed all its tries (PostgreSQL in maintenance at that hour) or was lost with Redis: the
 * scheduler's periodic check catches the day up. In a zone where it is about noon now, with the digest due at midnight,
 * today's run has passed whenever the test runs.
 */
describe('Catching up a reviewer digest its scheduled run did not write (e2e)', () => {
  const offset = 12 - new Date().getUTCHours();
  const tz = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`; // Etc/GMT-8 is UTC+8
  let t: TestApp;
  let queue: Queue;
  let jobId: string;
  beforeAll(async () => {
    t = await startTestApp({ REVIEWER_DIGEST_CRON: '0 0 * * *', REVIEWER_DIGEST_TZ: tz, SMTP_TIMEOUT_MS: '10000' });
    queue = t.app.get<Queue>(getQueueToken(EMAIL_QUEUE));
    jobId = `reviewer-digest:catch-up:${localDay(new Date(), tz)}`;
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    await (await queue.getJob(jobId))?.remove();
  });

  it("sends the day's digest, once", async () => {
    const { hospital, family } = await applicationWorld(t);
    const reviewer = await signedInUser(t, 'reviewer');
    const waiting = await createSubmittedApplication(t, family, hospital.id);
    await t.dataSource.query(`UPDATE applications SET submitted_at = now() - interval '5 days' WHERE id = $1`, [waiting.id]);
    const scheduler = t.app.get(ReviewerDigestScheduler);

    await expect(scheduler.catchUp()).resolves.toBe(true);
    const mail = await t.mail.waitFor((m) => m.to.includes(reviewer.email) && m.text.includes(waiting.reference));
    expect(mail.text).toMatch(/waiting 5 days/);
    const rows = await t.dataSource.query(`SELECT dedup_key FROM notifications WHERE template = 'reviewer-digest'`);
    expect(rows).toEqual([{ dedup_key: `reviewer-digest:${localDay(new Date(), tz)}:${reviewer.id}` }]);
    // Written: later checks of the day add nothing.
    await expect(scheduler.catchUp()).resolves.toBe(false);
  });

  it('catches up a day with nothing to send only once', async () => {
    await signedInUser(t, 'reviewer');
    const scheduler = t.app.get(ReviewerDigestScheduler);
    await expect(scheduler.catchUp()).resolves.toBe(true);
    await waitUntil(async () => (await (await queue.getJob(jobId))?.isCompleted()) === true);
    await expect(scheduler.catchUp()).resolves.toBe(false);
    expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications`)).toEqual([{ n: 0 }]);
  });
});
