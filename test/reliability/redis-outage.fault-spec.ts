import { randomUUID } from 'node:crypto';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { applicationBody } from 'test/support/application-factory';
import { createHospital, PASSWORD, signedInUser, SignedIn } from 'test/support/factories';
import { FaultStack, percentile, sleep, startFaultStack, trafficLoops } from 'test/support/fault-stack';
import { writeSecurityFigure } from 'test/support/security-report';

const API = '/api/v1';
const OUTAGE_MS = Number(process.env.FAULT_REDIS_OUTAGE_MS ?? 60_000);

/**
 * Redis (a throwaway redis-server) down for 60 s while the domain API is used: sign-in, drafts, donations, staff
 * invitations and registrations (both mail). test/faults/redis-outage.e2e-spec.ts (notifications) proves 100 queued
 * emails survive an outage exactly once; this proves the rest of the API does not notice Redis is gone, for longer
 * than ioredis' reconnect backoff tops out, and that Bull picks up again by itself.
 */
describe('Redis down for 60 s under traffic (fault injection)', () => {
  let stack: FaultStack;
  let admin: SignedIn;
  let finance: SignedIn;
  let family: SignedIn;
  let hospitalId: string;

  beforeAll(async () => {
    stack = await startFaultStack({ SMTP_TIMEOUT_MS: '15000', NOTIFY_BACKOFF_MS: '2000' });
    admin = await signedInUser(stack.t, 'admin');
    finance = await signedInUser(stack.t, 'fund_finance');
    family = await signedInUser(stack.t, 'applicant');
    hospitalId = (await createHospital(stack.t, admin)).id;
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  it('keeps every API call working (only /health/ready says 503), then delivers each email exactly once', async () => {
    const { t, redis } = stack;
    const traffic = trafficLoops(
      {
        login: async () => ({ res: await t.http.post(`${API}/auth/login`).send({ email: family.email, password: PASSWORD }) }),
        application: async () => ({ res: await t.http.post(`${API}/applications`).set(family.auth).send(applicationBody(hospitalId)) }),
        contribution: async (i) => ({
          res: await t.http
            .post(`${API}/fund/contributions`)
            .set(finance.auth)
            .send({ amount: 1000 + i, donorName: 'Donor', receivedOn: todayIn(FUND_TIME_ZONE), reference: `REDIS-${i}-${randomUUID().slice(0, 6)}` }),
        }),
        invitation: async (i) => {
          const email = `redis-invite-${i}-${randomUUID().slice(0, 6)}@example.org`;
          return { res: await t.http.post(`${API}/users`).set(admin.auth).send({ email, fullName: 'Reviewer', role: 'reviewer' }), key: email };
        },
        registration: async (i) => {
          const email = `redis-register-${i}-${randomUUID().slice(0, 6)}@example.org`;
          return { res: await t.http.post(`${API}/auth/register`).send({ email, password: PASSWORD, fullName: 'Family' }), key: email };
        },
        ready: async () => ({ res: await t.http.get('/health/ready') }),
      },
      100,
    );
    await sleep(3000);
    const downAt = Date.now() - traffic.startedAt;
    await redis.stop();
    await sleep(OUTAGE_MS);
    await redis.start(); // same port, empty: as if Redis restarted without persistence
    const upAt = Date.now() - traffic.startedAt;
    await sleep(10_000);
    await traffic.stop();
    const { samples } = traffic;

    const during = samples.filter((s) => s.at > downAt + 1000 && s.at < upAt);
    const api = during.filter((s) => s.kind !== 'ready');
    expect(api.filter((s) => s.status >= 300).map((s) => `${s.kind} ${s.status} ${JSON.stringify(s.body).slice(0, 120)}`)).toEqual([]);
    expect(api.length).toBeGreaterThan(100);
    expect(during.filter((s) => s.kind === 'ready').every((s) => s.status === 503 && s.problem)).toBe(true);
    expect(samples.filter((s) => s.kind === 'ready' && s.at > upAt + 5000).every((s) => s.status === 200)).toBe(true);

    const addresses = samples.filter((s) => (s.kind === 'invitation' || s.kind === 'registration') && s.status === 201).map((s) => s.key!);
    await t.mail.waitForCount(addresses.length, 120_000);
    await sleep(3000);
    const wrong = addresses.filter((a) => t.mail.to(a).length !== 1).map((a) => `${a}: ${t.mail.to(a).length}`);
    expect(wrong).toEqual([]);
    expect(t.mail.received).toHaveLength(addresses.length);
    const rows = await t.dataSource.query(`SELECT status, count(*)::int AS n FROM notifications GROUP BY status`);
    expect(rows).toEqual([{ status: 'sent', n: addresses.length }]);
    const ledger = await t.http.get(`${API}/fund/ledger/verify`).set(admin.auth).expect(200);
    expect(ledger.body.ok).toBe(true);

    const figure = {
      outageMs: OUTAGE_MS,
      apiCallsDuringOutage: api.length,
      apiFailuresDuringOutage: api.filter((s) => s.status >= 300).length,
      p50MsDuringOutage: Math.round(percentile(api.map((s) => s.ms), 50)),
      p99MsDuringOutage: Math.round(percentile(api.map((s) => s.ms), 99)),
      emails: addresses.length,
      emailsDeliveredExactlyOnce: addresses.length - wrong.length,
    };
    writeSecurityFigure('fault-redis-outage', figure);
    process.stdout.write(`redis outage: ${JSON.stringify(figure)}\n`);
  }, 300_000);
});
