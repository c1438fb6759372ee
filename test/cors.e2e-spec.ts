import { startTestApp, TestApp } from 'test/support/test-app';

describe('CORS for a browser portal (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CORS_ORIGINS: 'https://portal.example.org' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('lets the named origin read the headers a client acts on; other origins get no CORS headers', async () => {
    const allowed = await t.http.get('/health/live').set('Origin', 'https://portal.example.org').expect(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://portal.example.org');
    const exposed = String(allowed.headers['access-control-expose-headers']).split(',').map((h) => h.trim().toLowerCase());
    expect(exposed).toEqual(expect.arrayContaining(['x-request-id', 'retry-after', 'idempotent-replayed', 'content-disposition', 'outdated-payees-excluded', 'outdated-payees-included', 'already-exported-excluded', 'already-exported-included', 'payment-file-exported-at']));
    const other = await t.http.get('/health/live').set('Origin', 'https://evil.example.org').expect(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
