import { AddressInfo, connect } from 'node:net';
import { createHospital, signedInUser, SignedIn } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const NIL = '00000000-0000-4000-8000-000000000000';

/** API.md: every error body is {type, title, status, detail, errors?}, errors naming the fields of an input problem. */
describe('Error bodies always carry a detail (e2e)', () => {
  let t: TestApp;
  let admin: SignedIn;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp();
    await t.reset();
    admin = await signedInUser(t, 'admin');
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t.close();
  });

  /** What the server answers on a raw connection to `request` (for what Node's HTTP parser refuses before Fastify). */
  const raw = (request: string) =>
    new Promise<{ status: number; contentType: string; body: Record<string, unknown> }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(request));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('utf8')));
      socket.on('error', reject);
      socket.on('close', () => {
        const [head, body] = text.split('\r\n\r\n');
        resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), contentType: /content-type: ([^\r]+)/i.exec(head)?.[1] ?? '', body: JSON.parse(body) });
      });
    });

  it('an unknown route: 404 with a detail that does not echo the path', async () => {
    const res = await t.http.get(`${API}/no-such-route-<script>`).set(admin.auth);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toEqual({ type: expect.stringMatching(/\/problems\/not-found$/), title: 'Not found', status: 404, detail: expect.any(String) });
    expect(res.body.detail).not.toContain('no-such-route');
  });

  it('a malformed path id: 400 validation-failed naming the path parameter', async () => {
    const hospital = await t.http.get(`${API}/hospitals/not-a-uuid`).set(admin.auth);
    expect(hospital.status).toBe(400);
    expect(hospital.body).toEqual({
      type: expect.stringMatching(/\/problems\/validation-failed$/),
      title: 'Invalid input',
      status: 400,
      detail: expect.any(String),
      errors: [{ field: 'id', message: 'id must be a UUID' }],
    });
    // A route with two ids names the one that is wrong.
    const document = await t.http.get(`${API}/applications/${NIL}/documents/123/content`).set(admin.auth);
    expect(document.status).toBe(400);
    expect(document.body.errors).toEqual([{ field: 'docId', message: 'docId must be a UUID' }]);
    // A well-formed id in capitals is still the same id (lower-cased, as PostgreSQL writes it).
    const created = await createHospital(t, admin);
    await t.http.get(`${API}/hospitals/${created.id.toUpperCase()}`).set(admin.auth).expect(200);
  });

  it('an unparseable JSON body: 400 whose detail says so', async () => {
    const res = await t.http.post(`${API}/hospitals`).set(admin.auth).set('Content-Type', 'application/json').send('{"name": "A",');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ type: expect.any(String), title: 'Bad request', status: 400, detail: expect.stringMatching(/not valid JSON/) });
  });

  it("what Node's HTTP parser refuses (garbage, oversized headers) is problem+json with a detail too", async () => {
    const garbage = await raw('NOT A REQUEST\r\n\r\n');
    expect(garbage).toEqual({ status: 400, contentType: 'application/problem+json; charset=utf-8', body: { type: expect.any(String), title: 'Bad request', status: 400, detail: expect.any(String) } });
    const oversized = await raw(`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(oversized).toEqual({ status: 431, contentType: 'application/problem+json; charset=utf-8', body: { type: expect.any(String), title: 'Request headers too large', status: 431, detail: expect.any(String) } });
  });
});
