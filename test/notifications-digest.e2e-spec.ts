import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { EMAIL_QUEUE, REVIEWER_DIGEST_JOB } from 'src/notifications/queue.constants';
import { localDay, ReviewerDigestService } from 'src/notifications/reviewer-digest.service';
import { applicationWorld, createSubmittedApplication, OTHER_PATIENT_NATIONAL_ID } from 'test/support/application-factory';
import { createHospital, signedInUser, uniqueEmail } from 'test/support/factories';
import { contribute } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Daily reviewer digest (e2e)', () => {
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

  /** Two applications waiting 5 and 9 days, one submitted today, one already picked up 9 days ago. */
  async function waitingWorld() {
    const { admin, hospital, family } = await applicationWorld(t);
    const reviewerEn = await signedInUser(t, 'reviewer', { locale: 'en' });
    const reviewerZh = await signedInUser(t, 'reviewer', { locale: 'zh-CN' });
    const retired = await signedInUser(t, 'reviewer');
    await t.http.patch(`/api/v1/users/${retired.id}`).set(admin.auth).send({ disabled: true }).expect(200);
    // Invited, never accepted: the address an admin typed is not proven, so it gets no list of applications.
    const invitee = uniqueEmail('invited-reviewer');
    await t.http.post('/api/v1/users').set(admin.auth).send({ email: invitee, fullName: 'Not Yet', role: 'reviewer' }).expect(201);
    const otherFamily = await signedInUser(t, 'applicant');
    const thirdFamily = await signedInUser(t, 'applicant');
    const fourthFamily = await signedInUser(t, 'applicant');
    const old = await createSubmittedApplication(t, family, hospital.id);
    // Different children: a second open application for the same child would be flagged.
    const older = await createSubmittedApplication(t, otherFamily, hospital.id, { patient: { nationalId: OTHER_PATIENT_NATIONAL_ID, dateOfBirth: '2018-03-07' } });
    const fresh = await createSubmittedApplication(t, thirdFamily, hospital.id, { patient: { nationalId: '110105201701010038', dateOfBirth: '2017-01-01' } });
    const picked = await createSubmittedApplication(t, fourthFamily, hospital.id, { patient: { nationalId: '110105201601010030', dateOfBirth: '2016-01-01' } });
    await t.http.post(`/api/v1/applications/${picked.id}/start-review`).set(reviewerEn.auth).expect(200);
    const backdate = (id: string, days: number) =>
      t.dataSource.query(`UPDATE applications SET submitted_at = now() - make_interval(days => $2) WHERE id = $1`, [id, days]);
    await backdate(old.id, 5);
    await backdate(older.id, 9);
    await backdate(picked.id, 9);
    return { admin, reviewerEn, reviewerZh, retired, invitee, old, older, fresh, picked };
  }

  it('mails each active reviewer one digest, in their language, of the applications waiting too long', async () => {
    const w = await waitingWorld();
    const result = await t.app.get(ReviewerDigestService).run(new Date());
    expect(result).toMatchObject({ waiting: 2, emails: 2 });

    const en = await t.mail.waitFor((m) => m.to.includes(w.reviewerEn.email) && m.text.includes(w.older.reference));
    const zh = await t.mail.waitFor((m) => m.to.includes(w.reviewerZh.email) && m.text.includes(w.older.reference));
    for (const mail of [en, zh]) {
      expect(mail.text).toContain(w.old.reference);
      expect(mail.text).not.toContain(w.fresh.reference);
      expect(mail.text).not.toContain(w.picked.reference);
      // No medical or identity detail: only references, dates, the tier.
      expect(mail.text).not.toMatch(/王小明|310101|D61|aplastic/i);
    }
    // Oldest first, with the days waited.
    expect(en.text.indexOf(w.older.reference)).toBeLessThan(en.text.indexOf(w.old.reference));
    expect(en.text).toMatch(/waiting 9 days/);
    expect(en.text).toMatch(/tier: .*B/); // the latest assessment's tier (the factory's family is tier B)
    expect(zh.subject).toMatch(/[\u4e00-\u9fff]/);
    expect(en.subject).not.toMatch(/[\u4e00-\u9fff]/);
    await sleep(300);
    expect(t.mail.to(w.retired.email)).toHaveLength(0);
    const [{ n: toInvitee }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE to_email = $1 AND template = 'reviewer-digest'`, [w.invitee]);
    expect(toInvitee).toBe(0);
    expect(t.mail.to(w.reviewerEn.email).filter((m) => m.text.includes(w.older.reference))).toHaveLength(1);
  });

  it('runs once per day however often the job fires (several workers, a retried job)', async () => {
    const w = await waitingWorld();
    const queue = t.app.get<Queue>(getQueueToken(EMAIL_QUEUE));
    const second = await startTestApp({ APP_ROLE: 'worker', SMTP_URL: t.mail.url });
    try {
      // Every worker registers the schedule at start-up; Redis holds it once.
      const digests = (await queue.getRepeatableJobs()).filter((r) => r.name === REVIEWER_DIGEST_JOB);
      expect(digests).toEqual([expect.objectContaining({ cron: t.config.env.REVIEWER_DIGEST_CRON, tz: t.config.env.REVIEWER_DIGEST_TZ })]);

      const scheduledAt = Date.now();
      // Two runs of the same day's job, picked up by whichever worker is free.
      const runs = await Promise.all([
        queue.add(REVIEWER_DIGEST_JOB, {}, { jobId: `digest-run-a-${scheduledAt}`, prevMillis: scheduledAt } as never),
        queue.add(REVIEWER_DIGEST_JOB, {}, { jobId: `digest-run-b-${scheduledAt}`, prevMillis: scheduledAt } as never),
      ]);
      // Both runs finished (waited for, not slept on): one wrote the day's two digests, the other none.
      const results = (await Promise.all(runs.map((job) => job.finished()))) as { emails: number }[];
      expect(results.map((r) => r.emails).sort()).toEqual([0, 2]);
      await t.mail.waitFor((m) => m.to.includes(w.reviewerEn.email) && m.text.includes(w.older.reference));
      await t.mail.waitFor((m) => m.to.includes(w.reviewerZh.email) && m.text.includes(w.older.reference));
      await sleep(300);
      const rows = (await t.dataSource.query(`SELECT to_email, dedup_key FROM notifications WHERE template = 'reviewer-digest'`)) as { dedup_key: string }[];
      expect(rows).toHaveLength(2);
      for (const r of rows) expect(r.dedup_key).toMatch(/^reviewer-digest:\d{4}-\d{2}-\d{2}:[0-9a-f-]{36}$/);
      expect(t.mail.to(w.reviewerEn.email).filter((m) => m.text.includes(w.older.reference))).toHaveLength(1);
      expect(t.mail.to(w.reviewerZh.email).filter((m) => m.text.includes(w.older.reference))).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('a digest run late on its day counts what waits at sending; one for a day gone by sends nothing (today\'s says it)', async () => {
    const w = await waitingWorld();
    // Due at 08:00 two days ago (the workers were down since): stale, and today's digest would follow it.
    const service = t.app.get(ReviewerDigestService);
    expect(await service.run(new Date(Date.now() - 2 * 86_400_000))).toMatchObject({ skipped: 'day-passed', emails: 0 });
    // Due a minute ago, run now: `fresh` went overdue (3 days) in between and is listed. (In the minute after midnight
    // in Shanghai, due now: it is listed all the same.)
    const minuteAgo = new Date(Date.now() - 60_000);
    const due = localDay(minuteAgo, 'Asia/Shanghai') === localDay(new Date(), 'Asia/Shanghai') ? minuteAgo : new Date();
    await t.dataSource.query(`UPDATE applications SET submitted_at = now() - interval '3 days 30 seconds' WHERE id = $1`, [w.fresh.id]);
    const result = await service.run(due);
    expect(result).toMatchObject({ waiting: 3, emails: 2 });
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE template = 'reviewer-digest'`);
    expect(n).toBe(2);
  });

  // A grant at or above the four-eyes threshold waits on a second reviewer's signature; nothing reminded anyone.
  it('lists a grant waiting for a second approval to every reviewer but the one who approved it first', async () => {
    const { hospital, family } = await applicationWorld(t);
    const finance = await signedInUser(t, 'fund_finance');
    await contribute(t, finance, 100_000_000);
    const first = await signedInUser(t, 'reviewer', { locale: 'en' });
    const other = await signedInUser(t, 'reviewer', { locale: 'zh-CN' });
    const app = await createSubmittedApplication(t, family, hospital.id);
    await t.http.post(`/api/v1/applications/${app.id}/start-review`).set(first.auth).expect(200);
    const approved = await t.http.post(`/api/v1/applications/${app.id}/approve`).set(first.auth).send({ amount: 5_000_000 }).expect(200);
    expect(approved.body.status).toBe('awaiting_second_approval');

    // Today it has not waited long enough; four days on, in the small hours of a Shanghai morning, it has.
    expect(await t.app.get(ReviewerDigestService).run(new Date())).toMatchObject({ waiting: 0, secondApprovals: 0, emails: 0 });
    // The first 16:30 UTC at least four days on: 00:30 the next day in Shanghai, and the digest's day is Shanghai's.
    const fourDaysOn = new Date(Date.now() + 4 * 86_400_000);
    if (fourDaysOn.getUTCHours() * 60 + fourDaysOn.getUTCMinutes() >= 16 * 60 + 30) fourDaysOn.setUTCDate(fourDaysOn.getUTCDate() + 1);
    fourDaysOn.setUTCHours(16, 30, 0, 0);
    const result = await t.app.get(ReviewerDigestService).run(fourDaysOn);
    expect(result).toMatchObject({ day: localDay(fourDaysOn, 'Asia/Shanghai'), waiting: 0, secondApprovals: 1, emails: 1 });
    expect(result.day).not.toBe(fourDaysOn.toISOString().slice(0, 10));

    const zh = await t.mail.waitForMailTo(other.email);
    expect(zh.subject).toBe('有 1 笔资助等待复核已超过 3 天');
    const [{ decided_at: firstApprovedAt }] = await t.dataSource.query(`SELECT decided_at FROM decisions WHERE application_id = $1`, [app.id]);
    const days = Math.floor((fourDaysOn.getTime() - new Date(firstApprovedAt).getTime()) / 86_400_000); // 4, or 5 just after 16:30 UTC
    expect(zh.text).toMatch(new RegExp(`${app.reference}：\\d{4}-\\d{2}-\\d{2} 首次批准，已等待 ${days} 天`));
    await sleep(300);
    expect(t.mail.to(first.email).filter((m) => m.subject.includes('second approval') || m.text.includes(app.reference))).toHaveLength(0);
    const [row] = await t.dataSource.query(`SELECT dedup_key FROM notifications WHERE template = 'reviewer-digest'`);
    expect(row.dedup_key).toBe(`reviewer-digest:${result.day}:${other.id}`);
  });

  // They would be told to sign a grant whose every review action answers them 403 conflict-of-interest.
  it('leaves a grant waiting for a second approval out of the digest of a reviewer with a conflict of interest in it', async () => {
    const { admin, hospital, family } = await applicationWorld(t);
    const finance = await signedInUser(t, 'fund_finance');
    await contribute(t, finance, 100_000_000);
    const first = await signedInUser(t, 'reviewer');
    const free = await signedInUser(t, 'reviewer');
    const linkedToFamily = await signedInUser(t, 'reviewer');
    const linkedToHospital = await signedInUser(t, 'reviewer');
    const app = await createSubmittedApplication(t, family, hospital.id);
    await t.http.post(`/api/v1/applications/${app.id}/start-review`).set(first.auth).expect(200);
    await t.http.post(`/api/v1/applications/${app.id}/approve`).set(first.auth).send({ amount: 5_000_000 }).expect(200);
    await t.http.post(`/api/v1/users/${linkedToFamily.id}/conflicts`).set(admin.auth).send({ applicantId: family.id }).expect(201);
    await t.http.post(`/api/v1/users/${linkedToHospital.id}/conflicts`).set(admin.auth).send({ hospitalId: hospital.id }).expect(201);
    // The family's own account made reviewer: its own application.
    await t.http.patch(`/api/v1/users/${family.id}`).set(admin.auth).send({ role: 'reviewer' }).expect(200);

    const result = await t.app.get(ReviewerDigestService).run(new Date(Date.now() + 5 * 86_400_000));
    expect(result).toMatchObject({ waiting: 0, secondApprovals: 1, emails: 1 });
    const rows = (await t.dataSource.query(`SELECT to_email FROM notifications WHERE template = 'reviewer-digest'`)) as { to_email: string }[];
    expect(rows).toEqual([{ to_email: free.email }]);
    // What each of them would be answered, for the record.
    for (const who of [linkedToFamily, linkedToHospital]) {
      const res = await t.http.post(`/api/v1/applications/${app.id}/approve`).set(who.auth).send({ amount: 5_000_000 });
      expect([res.status, res.body.type]).toEqual([403, 'https://sprout.example.org/problems/conflict-of-interest']);
    }
  });

  // They were asked to pick up a case whose start-review answers them 403, and got a daily email for it alone.
  it('leaves an application waiting for review out of the digest of a reviewer with a conflict of interest in it; one left with nothing gets none', async () => {
    const { admin, hospital, family } = await applicationWorld(t);
    const otherHospital = await createHospital(t, admin);
    const otherFamily = await signedInUser(t, 'applicant');
    const free = await signedInUser(t, 'reviewer');
    const linkedToFamily = await signedInUser(t, 'reviewer');
    const linkedToHospital = await signedInUser(t, 'reviewer');
    const conflictedInBoth = await signedInUser(t, 'reviewer');
    const familys = await createSubmittedApplication(t, family, hospital.id);
    const others = await createSubmittedApplication(t, otherFamily, otherHospital.id, { patient: { nationalId: OTHER_PATIENT_NATIONAL_ID, dateOfBirth: '2018-03-07' } });
    await t.dataSource.query(`UPDATE applications SET submitted_at = now() - make_interval(days => 6) WHERE id = $1`, [familys.id]);
    await t.dataSource.query(`UPDATE applications SET submitted_at = now() - make_interval(days => 5) WHERE id = $1`, [others.id]);
    const conflict = (who: { id: string }, body: object) => t.http.post(`/api/v1/users/${who.id}/conflicts`).set(admin.auth).send(body).expect(201);
    await conflict(linkedToFamily, { applicantId: family.id });
    await conflict(linkedToHospital, { hospitalId: hospital.id });
    await conflict(conflictedInBoth, { applicantId: family.id });
    await conflict(conflictedInBoth, { hospitalId: otherHospital.id });
    // The family's own account made reviewer: its own application.
    await t.http.patch(`/api/v1/users/${family.id}`).set(admin.auth).send({ role: 'reviewer' }).expect(200);

    const result = await t.app.get(ReviewerDigestService).run(new Date());
    expect(result).toMatchObject({ waiting: 2, emails: 4 });
    const rows = (await t.dataSource.query(
      `SELECT to_email, (context->>'count')::int AS count, ARRAY(SELECT i->>'reference' FROM jsonb_array_elements(context->'items') i) AS refs
         FROM notifications WHERE template = 'reviewer-digest' ORDER BY to_email`,
    )) as { to_email: string; count: number; refs: string[] }[];
    const onlyOthers = { count: 1, refs: [others.reference] };
    expect(rows).toEqual(
      [
        { to_email: free.email, count: 2, refs: [familys.reference, others.reference] },
        { to_email: linkedToFamily.email, ...onlyOthers },
        { to_email: linkedToHospital.email, ...onlyOthers },
        { to_email: family.email, ...onlyOthers },
      ].sort((a, b) => a.to_email.localeCompare(b.to_email)),
    );
    const linkedMail = await t.mail.waitForMailTo(linkedToHospital.email);
    expect(linkedMail.subject).toBe('1 application has been waiting for review for more than 3 days');
    expect(linkedMail.text).not.toContain(familys.reference);
    // What they would have been answered, had they picked it up.
    for (const who of [linkedToFamily, linkedToHospital, conflictedInBoth]) {
      const res = await t.http.post(`/api/v1/applications/${familys.id}/start-review`).set(who.auth);
      expect([res.status, res.body.type]).toEqual([403, 'https://sprout.example.org/problems/conflict-of-interest']);
    }
  });

  it("counts each reviewer's own overdue applications in full and lists the oldest hundred of each list", async () => {
    const { admin, hospital, family } = await applicationWorld(t);
    const otherHospital = await createHospital(t, admin);
    const free = await signedInUser(t, 'reviewer');
    const linkedToHospital = await signedInUser(t, 'reviewer');
    await t.http.post(`/api/v1/users/${linkedToHospital.id}/conflicts`).set(admin.auth).send({ hospitalId: hospital.id }).expect(201);
    // Rows written straight away (a hundred submissions through HTTP would take minutes): only what the digest reads.
    const insert = (status: string, hospitalId: string, from: number, count: number) =>
      t.dataSource.query(
        `INSERT INTO applications (reference, applicant_id, hospital_id, status, submitted_at, first_submitted_at, updated_at)
         SELECT 'SPR-2026-' || lpad(n::text, 6, '0'), $1, $2, $3, at, at, at
           FROM generate_series($4::int, $4::int + $5::int - 1) n, LATERAL (SELECT now() - interval '5 days' - make_interval(mins => n)) s(at)`,
        [family.id, hospitalId, status, from, count],
      );
    await insert('submitted', hospital.id, 100001, 101);
    await insert('under_review', hospital.id, 200001, 101);
    await insert('submitted', otherHospital.id, 300001, 1);
    await insert('under_review', otherHospital.id, 400001, 1);

    expect(await t.app.get(ReviewerDigestService).run(new Date())).toMatchObject({ waiting: 102, inReview: 102, emails: 2 });
    const rows = (await t.dataSource.query(
      `SELECT to_email, (context->>'count')::int AS count, (context->>'inReviewCount')::int AS in_review_count,
              ARRAY(SELECT i->>'reference' FROM jsonb_array_elements(context->'items') i) AS waiting,
              ARRAY(SELECT i->>'reference' FROM jsonb_array_elements(context->'inReview') i) AS in_review
         FROM notifications WHERE template = 'reviewer-digest'`,
    )) as { to_email: string; count: number; in_review_count: number; waiting: string[]; in_review: string[] }[];
    const of = (who: { email: string }) => rows.find((r) => r.to_email === who.email)!;
    // Oldest first: the higher n, the longer ago.
    const oldest = (first: number, last: number) => Array.from({ length: first - last + 1 }, (_, i) => `SPR-2026-${first - i}`);
    expect(of(free)).toMatchObject({ count: 102, in_review_count: 102 });
    expect(of(free).waiting).toEqual(['SPR-2026-300001', ...oldest(100101, 100003)]);
    expect(of(free).in_review).toEqual(['SPR-2026-400001', ...oldest(200101, 200003)]);
    expect(of(linkedToHospital)).toEqual({ to_email: linkedToHospital.email, count: 1, in_review_count: 1, waiting: ['SPR-2026-300001'], in_review: ['SPR-2026-400001'] });
    const mail = await t.mail.waitForMailTo(free.email);
    expect(mail.subject).toBe('102 applications have been waiting for review for more than 3 days');
    expect(mail.text).toMatch(/102 applications have been under review for more than 3 days without a decision\./);
  });

  // A reviewer who started a case and went on leave (or was disabled): nothing reminded anyone of it.
  it('reminds every reviewer without a conflict of an application left under review without a decision', async () => {
    const { admin, hospital, family } = await applicationWorld(t);
    const starter = await signedInUser(t, 'reviewer');
    const colleague = await signedInUser(t, 'reviewer', { locale: 'zh-CN' });
    const linkedToHospital = await signedInUser(t, 'reviewer');
    const secondFamily = await signedInUser(t, 'applicant');
    const stalled = await createSubmittedApplication(t, family, hospital.id);
    const moving = await createSubmittedApplication(t, secondFamily, hospital.id, { patient: { nationalId: OTHER_PATIENT_NATIONAL_ID, dateOfBirth: '2018-03-07' } });
    for (const app of [stalled, moving]) await t.http.post(`/api/v1/applications/${app.id}/start-review`).set(starter.auth).expect(200);
    await t.http.post(`/api/v1/users/${linkedToHospital.id}/conflicts`).set(admin.auth).send({ hospitalId: hospital.id }).expect(201);
    await t.http.patch(`/api/v1/users/${starter.id}`).set(admin.auth).send({ disabled: true }).expect(200);
    // Submitted long ago, picked up five days ago and left there; the other picked up today.
    await t.dataSource.query(`UPDATE applications SET submitted_at = now() - interval '12 days' WHERE id = ANY($1)`, [[stalled.id, moving.id]]);
    await t.dataSource.query(`UPDATE applications SET updated_at = now() - interval '5 days 1 hour' WHERE id = $1`, [stalled.id]);

    const result = await t.app.get(ReviewerDigestService).run(new Date());
    expect(result).toMatchObject({ waiting: 0, inReview: 1, secondApprovals: 0, emails: 1 });
    const mail = await t.mail.waitForMailTo(colleague.email);
    expect(mail.subject).toBe('有 1 份申请审核中已超过 3 天仍未决定');
    expect(mail.text).toMatch(new RegExp(`${stalled.reference}：\\d{4}-\\d{2}-\\d{2} 开始审核，已等待 5 天，救助档次：B 档`));
    expect(mail.text).not.toContain(moving.reference);
    const rows = (await t.dataSource.query(`SELECT to_email FROM notifications WHERE template = 'reviewer-digest'`)) as { to_email: string }[];
    expect(rows).toEqual([{ to_email: colleague.email }]);
    // Any reviewer may take it over.
    await t.http.post(`/api/v1/applications/${stalled.id}/request-info`).set(colleague.auth).send({ message: 'Please add the latest blood count report.' }).expect(200);
  });

  it('writes nothing when no application waits too long', async () => {
    await signedInUser(t, 'reviewer');
    const result = await t.app.get(ReviewerDigestService).run(new Date());
    expect(result).toMatchObject({ waiting: 0, emails: 0 });
    expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE template = 'reviewer-digest'`)).toEqual([{ n: 0 }]);
  });
});
