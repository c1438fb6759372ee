import { IdempotencyKeySweepService } from 'src/common/idempotency/idempotency-key-sweep.service';
import { signedInUser } from 'test/support/factories';
import { contribute } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';

/** An Idempotency-Key and the answer it replays are kept IDEMPOTENCY_KEY_RETENTION_DAYS, then deleted by the worker. */
describe('Idempotency key retention (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ IDEMPOTENCY_KEY_RETENTION_DAYS: '30' });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  it('deletes keys older than the retention with the answers they held, and replays the recent ones as before', async () => {
    const finance = await signedInUser(t, 'fund_finance');
    const donate = (key: string, reference: string) =>
      t.http
        .post(`${API}/fund/contributions`)
        .set(finance.auth)
        .set('Idempotency-Key', key)
        .send({ amount: 100_000, donorName: 'A donor', receivedOn: '2026-09-01', reference });
    for (const [key, reference] of [['old-key', 'BANK-OLD'], ['recent-key', 'BANK-RECENT']]) expect((await donate(key, reference)).status).toBe(201);
    await t.dataSource.query(`UPDATE idempotency_keys SET created_at = now() - interval '31 days' WHERE key = 'old-key'`);
    await t.dataSource.query(`UPDATE idempotency_keys SET created_at = now() - interval '29 days' WHERE key = 'recent-key'`);
    await contribute(t, finance, 1); // a request without a key stores none

    expect(await t.app.get(IdempotencyKeySweepService).sweep()).toBe(1);
    expect(((await t.dataSource.query(`SELECT key FROM idempotency_keys ORDER BY key`)) as { key: string }[]).map((r) => r.key)).toEqual(['recent-key']);
    const replayed = await donate('recent-key', 'BANK-RECENT');
    expect([replayed.status, replayed.headers['idempotent-replayed']]).toEqual([201, 'true']);
    // The old key is a new request now: the fund's own rule, one donation per bank reference, still refuses it.
    const again = await donate('old-key', 'BANK-OLD');
    expect(again.status).toBe(409);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(await t.app.get(IdempotencyKeySweepService).sweep()).toBe(0);
  });
});
