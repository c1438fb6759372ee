import { randomUUID } from 'node:crypto';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { applicationBody } from 'test/support/application-factory';
import { createHospital, PASSWORD, signedInUser, SignedIn } from 'test/support/factories';
import { FaultStack, percentile, sleep, startFaultStack, trafficLoops } from 'test/support/fault-stack';
import { writeSecurityFigure } from 'test/support/security-report';

const API = '/api/v1';
const OUTAGE_MS = Number(process.env.FAULT_PG_OUTAGE_MS ?? 30_000);

/**
 * PostgreSQL (a throwaway cluster of this test's own) stopped for 30 s while four kinds of traffic run: every answer
 * is the normal one or 503 problem+json, nothing is half-written, and the service recovers without a restart.
 */
describe('PostgreSQL down for 30 s under traffic (fault injection)', () => {
  let stack: FaultStack;
  let admin: SignedIn;
  let finance: SignedIn;
  let family: SignedIn;
  let hospitalId: string;

  beforeAll(async () => {
    // A roomy SMTP timeout: a client timeout after the sink accepted is a known duplicate of its own (documented by
    // the notifications tests); this test is about the database.
    // Retries spaced to outlast the outage (production's NOTIFY_BACKOFF_MS is 30 s): the harness's 100 ms would spend
    // every attempt inside it and leave the rest to the ten-minute sweeper.
    stack = await startFaultStack({ SMTP_TIMEOUT_MS: '15000', NOTIFY_BACKOFF_MS: '2000' });
    const { t } = stack;
    admin = await signedInUser(t, 'admin');
    finance = await signedInUser(t, 'fund_finance');
    family = await signedInUser(t, 'applicant');
    hospitalId = (await createHospital(t, admin)).id;
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  it('answers 503 problem+json while it is down, never 500, writes nothing by halves, and recovers by itself', async () => {
    const { t, pg } = stack;
    const traffic = trafficLoops({
      contribution: async (i) => {
        const reference = `PG-OUTAGE-${i}-${randomUUID().slice(0, 8)}`;
        const res = await t.http.post(`${API}/fund/contributions`).set(finance.auth).send({ amount: 10_000 + i, donorName: 'Donor', receivedOn: todayIn(FUND_TIME_ZONE), reference });
        return { res, key: reference };
      },
      application: async () => ({ res: await t.http.post(`${API}/applications`).set(family.auth).send(applicationBody(hospitalId)) }),
      registration: async (i) => {
        const email = `pg-outage-${i}-${randomUUID().slice(0, 6)}@example.org`;
        return { res: await t.http.post(`${API}/auth/register`).send({ email, password: PASSWORD, fullName: 'Family' }), key: email };
      },
      read: async () => ({ res: await t.http.get(`${API}/me`).set(family.auth) }),
      ready: async () => ({ res: await t.http.get('/health/ready') }),
      live: async () => ({ res: await t.http.get('/health/live') }),
    });

    await sleep(4000);
    const downAt = Date.now() - traffic.startedAt;
    await pg.stop('fast');
    await sleep(OUTAGE_MS);
    await pg.start();
    const upAt = Date.now() - traffic.startedAt;
    await sleep(15_000);
    await traffic.stop();
    const { samples } = traffic;

    // 1. Only normal answers and 503 problem+json; liveness never fails.
    const unexpected = samples.filter((s) => !(s.status === 503 && s.problem) && ![200, 201].includes(s.status));
    expect(unexpected.map((s) => `${s.kind} ${s.status} at ${s.at} ms ${JSON.stringify(s.body).slice(0, 200)}`)).toEqual([]);
    expect(samples.filter((s) => s.kind === 'live').every((s) => s.status === 200)).toBe(true);

    // 2. The outage was seen, by every kind of request that needs the database.
    const during = samples.filter((s) => s.at > downAt + 1000 && s.at < upAt - 500);
    for (const kind of ['contribution', 'application', 'registration', 'read', 'ready']) {
      const seen = during.filter((s) => s.kind === kind);
      expect({ kind, all503: seen.length > 0 && seen.every((s) => s.status === 503) }).toEqual({ kind, all503: true });
    }
    // 3. Recovery without a restart: every kind succeeds again soon after the database is back.
    const recovery: Record<string, number> = {};
    for (const kind of ['contribution', 'application', 'registration', 'read', 'ready']) {
      const firstOk = samples.find((s) => s.kind === kind && s.at > upAt && s.status < 300);
      expect({ kind, recovered: Boolean(firstOk) }).toEqual({ kind, recovered: true });
      recovery[kind] = firstOk!.at - upAt;
      const afterwards = samples.filter((s) => s.kind === kind && s.at > firstOk!.at);
      expect(afterwards.every((s) => s.status < 300)).toBe(true);
    }
    expect(Math.max(...Object.values(recovery))).toBeLessThan(10_000);

    // 4. Nothing by halves: the books balance and every accepted contribution is in them exactly once.
    const ledger = await t.http.get(`${API}/fund/ledger/verify`).set(admin.auth).expect(200);
    expect(ledger.body.ok).toBe(true);
    const audit = await t.http.get(`${API}/audit/verify`).set(admin.auth).expect(200);
    expect(audit.body.ok).toBe(true);
    const accepted = samples.filter((s) => s.kind === 'contribution' && s.status === 201).map((s) => s.key!);
    const stored = (await t.dataSource.query(`SELECT reference, amount FROM fund_contributions WHERE reference LIKE 'PG-OUTAGE-%'`)) as { reference: string; amount: string }[];
    const storedRefs = new Set(stored.map((r) => r.reference));
    expect(accepted.filter((r) => !storedRefs.has(r))).toEqual([]);
    const fund = (await t.http.get(`${API}/fund`).set(admin.auth).expect(200)).body;
    expect(fund.received).toBe(stored.reduce((sum, r) => sum + Number(r.amount), 0));
    // Every stored application has its creation event; every registered user its verification email row.
    const [orphans] = (await t.dataSource.query(`
      SELECT (SELECT count(*) FROM applications a WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.object_id = a.id::text AND e.action = 'application.created'))::int AS applications,
             (SELECT count(*) FROM users u WHERE u.email LIKE 'pg-outage-%' AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = u.id AND n.template = 'email-verification'))::int AS users`)) as {
      applications: number;
      users: number;
    }[];
    expect(orphans).toEqual({ applications: 0, users: 0 });

    // 5. Nothing lost, nothing twice: every registered user gets its verification email exactly once (the outbox waited
    //    out the outage; a message the SMTP server took just as the database went away is recorded once it is back).
    const users = (await t.dataSource.query(`SELECT email FROM users WHERE email LIKE 'pg-outage-%'`)) as { email: string }[];
    await t.mail.waitForCount(users.length, 120_000);
    await sleep(1500);
    const duplicated = users.filter(({ email }) => t.mail.to(email).length > 1);
    for (const { email } of users) expect({ email, copies: t.mail.to(email).length }).toEqual({ email, copies: 1 });
    const refusedEmails = samples.filter((s) => s.kind === 'registration' && s.status === 503).map((s) => s.key!);
    const registeredSet = new Set(users.map((u) => u.email));
    for (const email of refusedEmails) if (!registeredSet.has(email)) expect(t.mail.to(email)).toHaveLength(0);

    const figure = {
      outageMs: OUTAGE_MS,
      requests: samples.length,
      byStatus: samples.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s.status]: (acc[s.status] ?? 0) + 1 }), {}),
      answered503WithinMsP99: Math.round(percentile(during.map((s) => s.ms), 99)),
      recoveryMsAfterRestart: recovery,
      contributionsAccepted: accepted.length,
      contributionsStored: stored.length,
      registrations: users.length,
      verificationEmailsDelivered: users.filter(({ email }) => t.mail.to(email).length >= 1).length,
      duplicatedBySendStraddlingTheOutage: duplicated.length,
    };
    writeSecurityFigure('fault-postgres-outage', figure);
    process.stdout.write(`postgres outage: ${JSON.stringify(figure)}\n`);
  }, 240_000);

  // Was a defect: recording the send gave up after 5 tries (~6 s), the job failed, its retry found the row `queued` and
  // the family got the email twice. The record is now retried for as long as the job holds its lock.
  it('an email the SMTP server accepts while PostgreSQL is down (15 s) is sent exactly once', async () => {
    const { t, pg } = stack;
    t.mail.clear();
    t.mail.replyWith({ reply: 'delay', ms: 2500 });
    const email = `pg-straddle-${randomUUID().slice(0, 8)}@example.org`;
    await t.http.post(`${API}/auth/register`).send({ email, password: PASSWORD, fullName: 'Family' }).expect(201);
    for (let i = 0; i < 100; i++) {
      const [row] = await t.dataSource.query(`SELECT status FROM notifications WHERE to_email = $1`, [email]);
      if (row?.status === 'queued') break;
      await sleep(20);
    }
    await sleep(300); // the processor has read the row and is waiting for the slow server
    await pg.stop('fast');
    await sleep(15_000);
    await pg.start();
    await t.mail.waitFor((m) => m.to.includes(email), 60_000);
    await sleep(20_000); // a second copy, if any, comes with the next retry
    expect(t.mail.to(email)).toHaveLength(1);
  }, 120_000);
});
