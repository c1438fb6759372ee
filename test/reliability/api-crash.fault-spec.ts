import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { createSubmittedApplication } from 'test/support/application-factory';
import { PASSWORD } from 'test/support/factories';
import { FaultStack, sleep, startFaultStack } from 'test/support/fault-stack';
import { grantWorld, GrantWorld } from 'test/support/grant-factory';
import { writeSecurityFigure } from 'test/support/security-report';
import { startThrowawayApi, ThrowawayApi } from 'test/support/throwaway-api';
import { freePort } from 'test/support/throwaway-redis';

const API = '/api/v1';
const N = 20;

/**
 * An api replica SIGKILLed in the middle of 60 money- and mail-bearing requests (approvals, donations, sign-ups):
 * whatever it had committed is whole, whatever it had not left no trace, and another replica carries on.
 * (A worker killed mid-send is test/faults/worker-crash.e2e-spec.ts, by the notifications engineer.)
 */
describe('An api process killed mid-request (fault injection)', () => {
  let stack: FaultStack;
  let w: GrantWorld;
  let replica: ThrowawayApi | null = null;

  beforeAll(async () => {
    stack = await startFaultStack();
    w = await grantWorld(stack.t, 1_000_000_000);
  }, 180_000);
  afterAll(async () => {
    await replica?.kill();
    await stack?.close();
  }, 60_000);

  it('leaves every approval, donation and sign-up either whole or absent, and the books and audit chain intact', async () => {
    const { t } = stack;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const app = await createSubmittedApplication(t, w.family, w.hospital.id);
      await t.http.post(`${API}/applications/${app.id}/start-review`).set(w.reviewer.auth).send({}).expect(200);
      ids.push(app.id);
    }
    const port = await freePort();
    replica = await startThrowawayApi({ ...stack.env, APP_ROLE: 'api', MIGRATIONS_RUN: 'false', LOG_LEVEL: 'silent' }, port);
    const http = request(replica.url);

    const emails = Array.from({ length: N }, (_, i) => `crash-${i}-${randomUUID().slice(0, 6)}@example.org`);
    const calls = [
      ...ids.map((id) => http.post(`${API}/applications/${id}/approve`).set(w.reviewer.auth).send({ amount: 1_000_000 })),
      ...Array.from({ length: N }, (_, i) =>
        http.post(`${API}/fund/contributions`).set(w.finance.auth).send({ amount: 10_000, donorName: 'D', receivedOn: todayIn(FUND_TIME_ZONE), reference: `CRASH-${i}-${randomUUID().slice(0, 6)}` }),
      ),
      ...emails.map((email) => http.post(`${API}/auth/register`).send({ email, password: PASSWORD, fullName: 'Family' })),
    ].map((req) => req.then((res) => res.status, () => -1));
    // Kill as soon as a few approvals have committed: the rest are mid-transaction, queued in the pool, or unsent.
    for (let i = 0; i < 400; i++) {
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM decisions WHERE application_id = ANY($1)`, [ids]);
      if (n >= 3) break;
      await sleep(25);
    }
    await replica.kill();
    const statuses = await Promise.all(calls);
    replica = null;

    // The books and the chain.
    expect((await t.http.get(`${API}/fund/ledger/verify`).set(w.admin.auth).expect(200)).body.ok).toBe(true);
    expect((await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200)).body.ok).toBe(true);

    // Each approval whole or absent: status, decision, commitment, tranche and email go together.
    const rows = (await t.dataSource.query(
      `SELECT a.id, a.status,
              (SELECT count(*) FROM decisions d WHERE d.application_id = a.id)::int AS decisions,
              (SELECT count(*) FROM disbursements s WHERE s.application_id = a.id)::int AS tranches
         FROM applications a WHERE a.id = ANY($1)`,
      [ids],
    )) as { id: string; status: string; decisions: number; tranches: number }[];
    const approved = rows.filter((r) => r.status === 'approved');
    for (const r of rows) {
      const whole = r.status === 'approved' ? r.decisions === 1 && r.tranches === 1 : r.status === 'under_review' && r.decisions === 0 && r.tranches === 0;
      expect({ id: r.id, status: r.status, whole }).toEqual({ id: r.id, status: r.status, whole: true });
    }
    ids.forEach((id, i) => {
      if (statuses[i] === 200) expect(rows.find((r) => r.id === id)?.status).toBe('approved');
    });
    const fund = (await t.http.get(`${API}/fund`).set(w.admin.auth).expect(200)).body;
    expect(fund.committed).toBe(approved.length * 1_000_000);
    expect(approved.length).toBeGreaterThanOrEqual(3);
    expect(approved.length).toBeLessThan(N); // the kill did cut approvals off
    const [{ received }] = await t.dataSource.query(`SELECT coalesce(sum(amount), 0)::bigint::text AS received FROM fund_contributions`);
    expect(fund.received).toBe(Number(received));
    const [{ orphans }] = await t.dataSource.query(
      `SELECT count(*)::int AS orphans FROM users u WHERE u.email LIKE 'crash-%' AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = u.id)`,
    );
    expect(orphans).toBe(0);

    // Another replica carries on: the applications left under review can still be decided (no lock left behind).
    const next = await startThrowawayApi({ ...stack.env, APP_ROLE: 'api', MIGRATIONS_RUN: 'false', LOG_LEVEL: 'silent' }, await freePort());
    replica = next;
    const left = rows.filter((r) => r.status === 'under_review');
    for (const r of left) await request(next.url).post(`${API}/applications/${r.id}/approve`).set(w.reviewer.auth).send({ amount: 1_000_000 }).expect(200);
    expect((await t.http.get(`${API}/fund`).set(w.admin.auth).expect(200)).body.committed).toBe(N * 1_000_000);
    expect((await t.http.get(`${API}/fund/ledger/verify`).set(w.admin.auth).expect(200)).body.ok).toBe(true);

    const figure = {
      requestsInFlight: calls.length,
      answeredBeforeKill: statuses.filter((s) => s > 0).length,
      cutOff: statuses.filter((s) => s === -1).length,
      approvalsCommitted: approved.length,
      approvalsCompletedAfterwardOnAnotherReplica: left.length,
    };
    writeSecurityFigure('fault-api-crash', figure);
    process.stdout.write(`api crash: ${JSON.stringify(figure)}\n`);
  }, 300_000);
});
