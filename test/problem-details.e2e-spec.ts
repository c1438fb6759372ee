import { AddressInfo, connect } from 'node:net';
import { gzipSync } from 'node:zlib';
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

  /**
   * What the server answers on a raw connection to `request` (for what Node's HTTP parser refuses before Fastify).
   * `halfClose: false` keeps the client's side open until the answer (a request with `Connection: close` that the
   * service must work on: a client gone before it answers gets no answer).
   */
  const raw = (request: string | Buffer, { halfClose = true } = {}) =>
    new Promise<{ status: number; contentType: string; body: Record<string, unknown> }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => (halfClose ? socket.end(request) : socket.write(request)));
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

  it('a JSON body that is not UTF-8 text is 400 and stores nothing, however it is sent; an encoded body is 415', async () => {
    const [{ n: before }] = (await t.dataSource.query(`SELECT count(*)::int AS n FROM hospitals`)) as { n: number }[];
    const body = (name: Buffer) =>
      Buffer.concat([Buffer.from('{"name":"'), name, Buffer.from('","code":"U8X","bankAccount":{"bankName":"ICBC","accountName":"A","accountNumber":"6222021001234567890"}}')]);
    const head = (framing: string) => `POST ${API}/hospitals HTTP/1.1\r\nHost: x\r\nAuthorization: ${admin.auth.Authorization}\r\nContent-Type: application/json\r\nConnection: close\r\n${framing}\r\n`;
    const chunked = (bytes: Buffer, at: number) =>
      Buffer.concat([
        Buffer.from(head('Transfer-Encoding: chunked\r\n')),
        ...[bytes.subarray(0, at), bytes.subarray(at)].flatMap((chunk) => [Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]),
        Buffer.from('0\r\n\r\n'),
      ]);
    const notUtf8 = body(Buffer.from([0x4c, 0x69, 0xff, 0xc3]));
    for (const request of [chunked(notUtf8, 12), Buffer.concat([Buffer.from(head(`Content-Length: ${notUtf8.length}\r\n`)), notUtf8])]) {
      const res = await raw(request, { halfClose: false });
      expect(res).toMatchObject({ status: 400, contentType: expect.stringContaining('application/problem+json'), body: { detail: 'The body is not UTF-8 text.' } });
    }
    const gzipped = await t.http.post(`${API}/hospitals`).set(admin.auth).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send(gzipSync(body(Buffer.from('Gz'))));
    expect([gzipped.status, gzipped.body.detail]).toEqual([415, expect.stringMatching(/encoded as gzip/)]);
    // Text labelled as text is not JSON either: 415, not field errors about a body nobody sent.
    const text = await t.http.post(`${API}/auth/login`).set('Content-Type', 'text/plain').send('{"email":"a@example.org","password":"x"}');
    expect([text.status, text.headers['content-type']]).toEqual([415, expect.stringContaining('application/problem+json')]);
    // A label that compresses nothing (some clients send the charset there) does not refuse plain JSON.
    const mislabelled = await t.http.post(`${API}/hospitals`).set(admin.auth).set('Content-Type', 'application/json').set('Content-Encoding', 'utf-8').send('{"name":');
    expect([mislabelled.status, mislabelled.body.detail]).toEqual([400, expect.stringMatching(/not valid JSON/)]);
    const [{ n: after }] = (await t.dataSource.query(`SELECT count(*)::int AS n FROM hospitals`)) as { n: number }[];
    expect(after).toBe(before);
    // UTF-8 whose character is cut across two chunks is whole text, and stored as sent.
    const chinese = body(Buffer.from('协和医院', 'utf8'));
    const split = chinese.indexOf(Buffer.from('协', 'utf8')) + 1;
    expect(await raw(chunked(chinese, split), { halfClose: false })).toMatchObject({ status: 201, body: { name: '协和医院' } });
  });

  it("what Node's HTTP parser refuses (garbage, oversized headers) is problem+json with a detail too", async () => {
    const garbage = await raw('NOT A REQUEST\r\n\r\n');
    expect(garbage).toEqual({ status: 400, contentType: 'application/problem+json; charset=utf-8', body: { type: expect.any(String), title: 'Bad request', status: 400, detail: expect.any(String) } });
    const oversized = await raw(`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(oversized).toEqual({ status: 431, contentType: 'application/problem+json; charset=utf-8', body: { type: expect.any(String), title: 'Request headers too large', status: 431, detail: expect.any(String) } });
  });
});
