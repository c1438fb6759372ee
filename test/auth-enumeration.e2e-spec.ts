import { createHash } from 'node:crypto';
import { Response } from 'supertest';
import { signedInUser, uniqueEmail } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
/** The audit chain's lock (migration AuditChainAtCommit): every audited commit waits for it. */
const AUDIT_CHAIN_LOCK = 727002;
const HOLD_MS = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What an observer can compare between two answers: status, body bytes and every header but the per-request ones. */
const observable = (res: Response) => {
  const headers = Object.fromEntries(Object.entries(res.headers).filter(([name]) => !['date', 'x-request-id'].includes(name)));
  return { status: res.status, body: res.text, headers };
};

describe('Whether an email has an account: the same answer and the same database work either way (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  const loginAs = (email: string, password: string) => t.http.post(`${API}/auth/login`).send({ email, password });
  const forgot = (email: string) => t.http.post(`${API}/auth/forgot-password`).send({ email });

  /**
   * Holds the audit chain's lock (as a statement import does) while the requests run: a request whose work commits an
   * audited transaction cannot answer before the lock is released, one that skips it answers at once.
   */
  async function whileChainLocked(requests: (() => PromiseLike<Response>)[]): Promise<{ pendingWhileHeld: boolean[]; answers: Response[] }> {
    const side = t.dataSource.createQueryRunner();
    await side.connect();
    try {
      await side.startTransaction();
      await side.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK]);
      const settled = requests.map(() => false);
      const running = requests.map((send, i) =>
        Promise.resolve(send()).then((res) => {
          settled[i] = true;
          return res;
        }),
      );
      await sleep(HOLD_MS / 2);
      const pendingWhileHeld = settled.map((done) => !done);
      await sleep(HOLD_MS / 2);
      await side.commitTransaction();
      return { pendingWhileHeld, answers: await Promise.all(running) };
    } finally {
      if (side.isTransactionActive) await side.rollbackTransaction();
      await side.release();
    }
  }

  it('a failed sign-in waits for the audit chain whether or not the email has an account, and answers the same', async () => {
    const user = await signedInUser(t, 'applicant');
    const { pendingWhileHeld, answers } = await whileChainLocked([
      () => loginAs(uniqueEmail('nobody'), 'wrong password!'),
      () => loginAs(user.email, 'wrong password!'),
    ]);
    expect(pendingWhileHeld).toEqual([true, true]);
    const [unknown, known] = answers.map(observable);
    expect(unknown.status).toBe(401);
    expect(unknown).toEqual(known);
  });

  it('a reset request waits for the audit chain for an unknown, a disabled and an active account alike, and answers the same', async () => {
    const admin = await signedInUser(t, 'admin');
    const active = await signedInUser(t, 'applicant');
    const disabled = await signedInUser(t, 'reviewer');
    await t.http.patch(`${API}/users/${disabled.id}`).set(admin.auth).send({ disabled: true }).expect(200);
    const { pendingWhileHeld, answers } = await whileChainLocked([
      () => forgot(uniqueEmail('nobody')),
      () => forgot(disabled.email),
      () => forgot(active.email),
    ]);
    expect(pendingWhileHeld).toEqual([true, true, true]);
    const [unknown, gone, known] = answers.map(observable);
    expect(unknown.status).toBe(202);
    expect(gone).toEqual(known);
    expect(unknown).toEqual(known);
  });

  it('the audit trail records the attempts on unknown emails by a keyed hash, never the address', async () => {
    const admin = await signedInUser(t, 'admin');
    const stranger = uniqueEmail('nobody');
    await loginAs(` ${stranger.toUpperCase()} `, 'wrong password!').expect(401);
    await forgot(stranger).expect(202);
    await loginAs(uniqueEmail('other'), 'wrong password!').expect(401);

    const events = (await t.dataSource.query(
      `SELECT action, object_type, object_id, summary FROM audit_events WHERE action IN ('auth.login_failed', 'auth.password_reset_requested') ORDER BY id`,
    )) as { action: string; object_type: string; object_id: string | null; summary: { emailHash?: string } }[];
    expect(events.map((e) => [e.action, e.object_id])).toEqual([
      ['auth.login_failed', null],
      ['auth.password_reset_requested', null],
      ['auth.login_failed', null],
    ]);
    const [first, second, third] = events.map((e) => e.summary.emailHash);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    // One address, however typed, is one hash (its attempts can be followed); another address is another.
    expect(second).toBe(first);
    expect(third).not.toBe(first);
    // Keyed: not a plain hash anyone could recompute from a guessed address.
    expect(first).not.toBe(createHash('sha256').update(stranger).digest('hex'));

    const everything = JSON.stringify(await t.dataSource.query(`SELECT * FROM audit_events`)).toLowerCase();
    expect(everything).not.toContain(stranger.split('@')[0]);
    const verified = await t.http.get(`${API}/audit/verify`).set(admin.auth).expect(200);
    expect(verified.body).toMatchObject({ ok: true });
  });
});
