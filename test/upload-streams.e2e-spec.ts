import fs, { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { applicationWorld, createDraftApplication, files, uploadDocument } from 'test/support/application-factory';
import { SignedIn, signedInUser } from 'test/support/factories';
import { csvStatement } from 'test/support/grant-factory';
import { filesUnder } from 'test/support/files-under';
import { startTestApp, TestApp } from 'test/support/test-app';
import { waitUntil } from 'test/support/wait-until';

const API = '/api/v1';
const MiB = 1024 * 1024;
const BOUNDARY = 'sprout-raw-upload';

type Answer = { status: number; headers: Record<string, string>; body: Record<string, any> };

/** One HTTP/1.1 connection written by hand: a body can stop anywhere, and answers are read as they arrive. */
class RawConnection {
  private received = Buffer.alloc(0);

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((done, fail) => {
      const socket = connect(port, '127.0.0.1', () => done(new RawConnection(socket)));
      socket.once('error', fail);
    });
  }

  /** The head of a multipart POST declaring `bodyLength` bytes of body, however many are then written. */
  postMultipart(path: string, who: SignedIn, bodyLength: number): void {
    this.write(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${who.auth.Authorization}\r\n` +
        `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${bodyLength}\r\n\r\n`,
    );
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Every answer received in full so far, in order. */
  answers(): Answer[] {
    const out: Answer[] = [];
    let rest = this.received;
    for (;;) {
      const end = rest.indexOf('\r\n\r\n');
      if (end < 0) return out;
      const [statusLine, ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = Number(headers['content-length'] ?? 0);
      if (rest.length < end + 4 + length) return out;
      const body = rest.subarray(end + 4, end + 4 + length).toString('utf8');
      out.push({ status: Number(statusLine.split(' ')[1]), headers, body: body ? JSON.parse(body) : {} });
      rest = rest.subarray(end + 4 + length);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

const field = (name: string, value: string) => Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
const fileHead = (name: string) => Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
const closing = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
const partFilesUnder = (root: string) => filesUnder(root).filter((path) => path.endsWith('.part'));
const scan = (bytes: number) => Buffer.concat([files.pdf(), Buffer.alloc(bytes - files.pdf().length, 0x20)]);


/**
 * The next file opened for writing gets the disk full (a real ENOSPC from /dev/full) after a first few bytes reached
 * the file it was meant to be.
 */
function fillTheDiskOnNextWrite(): jest.SpyInstance {
  const realCreateWriteStream = fs.createWriteStream;
  return jest.spyOn(fs, 'createWriteStream').mockImplementationOnce((path) => {
    writeFileSync(path as string, '%PDF-1.4 the first bytes', { mode: 0o600 });
    return realCreateWriteStream('/dev/full');
  });
}

describe('Uploads cut off, past a limit, or on a full disk (e2e)', () => {
  let t: TestApp;
  let port: number;
  let uploadRoot: string;
  const spoolDir = mkdtempSync(join(tmpdir(), 'sprout-spool-streams-'));
  beforeAll(async () => {
    t = await startTestApp({ UPLOAD_MAX_BYTES: String(MiB), UPLOAD_MAX_TOTAL_BYTES: String(2 * MiB), STATEMENT_MAX_BYTES: String(MiB), STATEMENT_SPOOL_DIR: spoolDir });
    uploadRoot = resolve(t.config.env.UPLOAD_DIR);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });
  /** Partial files an earlier test left behind (none, unless it failed): each test looks only at its own. */
  let leftBehind = new Set<string>();
  beforeEach(async () => {
    await t.reset();
    leftBehind = new Set([...partFilesUnder(uploadRoot), ...readdirSync(spoolDir)]);
  });

  const partFiles = () => partFilesUnder(uploadRoot).filter((path) => !leftBehind.has(path));
  const spooled = () => readdirSync(spoolDir).filter((name) => !leftBehind.has(name));
  const documentRows = async () => (await t.dataSource.query('SELECT count(*)::int AS n FROM application_documents'))[0].n as number;
  const documentsPath = (applicationId: string) => `${API}/applications/${applicationId}/documents`;

  async function draft() {
    const world = await applicationWorld(t);
    const app = await createDraftApplication(t, world.family, world.hospital.id);
    return { family: world.family, hospitalId: world.hospital.id, app };
  }

  /** Starts a document upload whose file is to be `fileBytes` long and writes its first `sentBytes` of file. */
  async function startDocumentUpload(family: SignedIn, applicationId: string, fileBytes: number, sentBytes: number): Promise<RawConnection> {
    const head = Buffer.concat([field('type', 'other'), fileHead('scan.pdf')]);
    const connection = await RawConnection.open(port);
    connection.postMultipart(documentsPath(applicationId), family, head.length + fileBytes + closing.length);
    connection.write(Buffer.concat([head, scan(fileBytes).subarray(0, sentBytes)]));
    return connection;
  }

  it('answers a scan past UPLOAD_MAX_BYTES with 413 as soon as it passes the limit, while the client is still sending', async () => {
    const { family, app } = await draft();
    const limit = t.config.env.UPLOAD_MAX_BYTES;
    const whole = await uploadDocument(t, family, app.id, 'other', scan(limit + 1));
    expect(whole.status).toBe(413);

    const connection = await startDocumentUpload(family, app.id, 4 * limit, limit + 64 * 1024);
    try {
      await waitUntil(() => connection.answers().length > 0);
      const [answer] = connection.answers();
      expect(answer.status).toBe(413);
      expect(answer.headers['content-type']).toMatch(/problem\+json/);
      expect(answer.body).toEqual(whole.body);
    } finally {
      connection.close();
    }
    await waitUntil(() => partFiles().length === 0);
    expect(await documentRows()).toBe(0);
  });

  it('keeps nothing of a scan past the limit when the client goes away before its end', async () => {
    const { family, app } = await draft();
    const limit = t.config.env.UPLOAD_MAX_BYTES;
    const connection = await startDocumentUpload(family, app.id, 4 * limit, limit + 64 * 1024);
    // The server has the bytes past the limit: it answered, or it is still writing them.
    await waitUntil(() => connection.answers().length > 0 || partFiles().length > 0);
    connection.close();
    await waitUntil(() => partFiles().length === 0);
    expect(await documentRows()).toBe(0);
  });

  // @fastify/multipart destroys the part's stream itself when the request is aborted, but only until the limit (above).
  it('keeps nothing of a scan within the limit when the client goes away before its end', async () => {
    const { family, app } = await draft();
    const connection = await startDocumentUpload(family, app.id, t.config.env.UPLOAD_MAX_BYTES, 64 * 1024);
    await waitUntil(() => partFiles().length > 0);
    connection.close();
    await waitUntil(() => partFiles().length === 0);
    expect(await documentRows()).toBe(0);
  });

  it('refuses a document to an application already at its budget or its count before reading the file', async () => {
    const { family, hospitalId, app } = await draft();
    const limit = t.config.env.UPLOAD_MAX_BYTES;
    for (const n of [1, 2]) expect((await uploadDocument(t, family, app.id, 'other', scan(limit), `scan-${n}.pdf`)).status).toBe(201);

    const atBudget = await startDocumentUpload(family, app.id, limit, 256 * 1024);
    try {
      // Were the file read, a partial copy would be on disk before any answer.
      await waitUntil(() => atBudget.answers().length > 0 || partFiles().length > 0);
      expect(partFiles()).toEqual([]);
      expect(atBudget.answers()[0]).toMatchObject({ status: 409, body: { type: expect.stringMatching(/documents-too-large$/) } });
    } finally {
      atBudget.close();
    }

    const full = await createDraftApplication(t, family, hospitalId);
    for (let n = 0; n < 50; n++) expect((await uploadDocument(t, family, full.id, 'other', files.png(), `photo-${n}.png`)).status).toBe(201);
    const atCount = await startDocumentUpload(family, full.id, limit, 256 * 1024);
    try {
      await waitUntil(() => atCount.answers().length > 0 || partFiles().length > 0);
      expect(partFiles()).toEqual([]);
      expect(atCount.answers()[0]).toMatchObject({ status: 409, body: { type: expect.stringMatching(/too-many-documents$/) } });
    } finally {
      atCount.close();
    }
  });

  it('answers a full disk while storing a scan with 503 and Retry-After, keeps no partial file, and reads the rest of the body', async () => {
    const { family, app } = await draft();
    const scanBytes = t.config.env.UPLOAD_MAX_BYTES - 1024;
    const body = Buffer.concat([field('type', 'other'), fileHead('scan.pdf'), scan(scanBytes), closing]);
    const connection = await RawConnection.open(port);
    const diskFull = fillTheDiskOnNextWrite();
    try {
      connection.postMultipart(documentsPath(app.id), family, body.length);
      connection.write(body);
      // The same connection serves the next request only once the whole body was read.
      connection.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await waitUntil(() => connection.answers().length === 2);
    } finally {
      diskFull.mockRestore();
      connection.close();
    }
    const [refused, next] = connection.answers();
    expect(refused).toMatchObject({ status: 503, headers: { 'retry-after': expect.stringMatching(/^\d+$/) }, body: { status: 503 } });
    expect(refused.body.retryAfter).toBe(Number(refused.headers['retry-after']));
    expect(next.status).toBe(200);
    expect(partFiles()).toEqual([]);
    expect(await documentRows()).toBe(0);
  });

  describe('bank statements', () => {
    let finance: SignedIn;
    beforeEach(async () => {
      const { hospital } = await applicationWorld(t);
      finance = await signedInUser(t, 'hospital_finance', { hospitalId: hospital.id });
    });
    const statementsPath = `${API}/reconciliation/statements`;

    async function startStatementUpload(fileBytes: number, sentBytes: number): Promise<RawConnection> {
      const head = fileHead('statement.csv');
      const connection = await RawConnection.open(port);
      connection.postMultipart(statementsPath, finance, head.length + fileBytes + closing.length);
      connection.write(Buffer.concat([head, Buffer.alloc(sentBytes, 0x41)]));
      return connection;
    }

    it('answers a statement past STATEMENT_MAX_BYTES with 413 while the client is still sending, and spools nothing once it goes away', async () => {
      const limit = t.config.env.STATEMENT_MAX_BYTES;
      const whole = await t.http.post(statementsPath).set(finance.auth).attach('file', Buffer.alloc(limit + 1, 0x41), 'big.csv');
      expect(whole.status).toBe(413);

      const connection = await startStatementUpload(4 * limit, limit + 64 * 1024);
      try {
        await waitUntil(() => connection.answers().length > 0);
        expect(connection.answers()[0]).toMatchObject({ status: 413, body: whole.body });
      } finally {
        connection.close();
      }
      await waitUntil(() => spooled().length === 0);
    });

    it('spools nothing of a statement past the limit when the client goes away before its end', async () => {
      const limit = t.config.env.STATEMENT_MAX_BYTES;
      const connection = await startStatementUpload(4 * limit, limit + 64 * 1024);
      await waitUntil(() => connection.answers().length > 0 || spooled().length > 0);
      connection.close();
      await waitUntil(() => spooled().length === 0);
    });

    it('answers a full disk while spooling with 503 and Retry-After, removes the spool, and reads the rest of the body', async () => {
      const body = Buffer.concat([fileHead('statement.csv'), Buffer.alloc(t.config.env.STATEMENT_MAX_BYTES - 1024, 0x41), closing]);
      const connection = await RawConnection.open(port);
      const diskFull = fillTheDiskOnNextWrite();
      try {
        connection.postMultipart(statementsPath, finance, body.length);
        connection.write(body);
        connection.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        await waitUntil(() => connection.answers().length === 2);
      } finally {
        diskFull.mockRestore();
        connection.close();
      }
      const [refused, next] = connection.answers();
      expect(refused).toMatchObject({ status: 503, headers: { 'retry-after': expect.stringMatching(/^\d+$/) } });
      expect(next.status).toBe(200);
      expect(spooled()).toEqual([]);
    });
  });

  /**
   * The guard checks the session before the body is read, and a body may take up to HTTP_REQUEST_TIMEOUT_MS to arrive:
   * an account disabled, moved or signed out meanwhile must not have its upload written in its old name.
   */
  describe('an account that changes while its upload is still arriving', () => {
    const statementsPath = `${API}/reconciliation/statements`;
    const statement = csvStatement([{ amount: '100.00', remittance: 'patient deposit', accountServicerReference: 'IN-FLIGHT-1' }]);
    const statementRows = async () => (await t.dataSource.query('SELECT count(*)::int AS n FROM bank_statements'))[0].n as number;

    /** Sends the head and half the file, waits until the server is spooling it (past the guard), then `meanwhile`, then the rest. */
    async function statementUpload(finance: SignedIn, meanwhile: () => Promise<unknown>): Promise<Answer> {
      const head = fileHead('statement.csv');
      const connection = await RawConnection.open(port);
      try {
        connection.postMultipart(statementsPath, finance, head.length + statement.length + closing.length);
        connection.write(Buffer.concat([head, statement.subarray(0, statement.length >> 1)]));
        await waitUntil(() => spooled().length > 0);
        await meanwhile();
        connection.write(Buffer.concat([statement.subarray(statement.length >> 1), closing]));
        await waitUntil(() => connection.answers().length > 0);
        return connection.answers()[0];
      } finally {
        connection.close();
      }
    }

    it('imports the statement of an account that did not change (the same slow upload)', async () => {
      const { hospital } = await applicationWorld(t);
      const finance = await signedInUser(t, 'hospital_finance', { hospitalId: hospital.id });
      const answer = await statementUpload(finance, async () => undefined);
      expect(answer).toMatchObject({ status: 201, body: { entries: 1, hospitalId: hospital.id } });
    });

    it('refuses with 401 the statement of an account disabled, or moved to another hospital, while it was sent; nothing is imported', async () => {
      const { admin, hospital } = await applicationWorld(t);
      const other = await applicationWorld(t);
      for (const change of [{ disabled: true }, { hospitalId: other.hospital.id }]) {
        const finance = await signedInUser(t, 'hospital_finance', { hospitalId: hospital.id });
        const answer = await statementUpload(finance, () => t.http.patch(`${API}/users/${finance.id}`).set(admin.auth).send(change).expect(200));
        expect([change, answer.status, answer.headers['content-type']]).toEqual([change, 401, expect.stringMatching(/problem\+json/)]);
        expect(answer.body.detail).toMatch(/while the file was being sent/);
      }
      expect(await statementRows()).toBe(0);
      await waitUntil(() => spooled().length === 0);
    });

    it('refuses with 401 the scan of a family that signed out while it was sent; nothing is stored', async () => {
      const { family, app } = await draft();
      const connection = await startDocumentUpload(family, app.id, 256 * 1024, 64 * 1024);
      try {
        await waitUntil(() => partFiles().length > 0);
        await t.http.post(`${API}/auth/logout`).set(family.auth).expect(204);
        connection.write(Buffer.concat([scan(256 * 1024).subarray(64 * 1024), closing]));
        await waitUntil(() => connection.answers().length > 0);
        expect(connection.answers()[0]).toMatchObject({ status: 401, body: { detail: expect.stringMatching(/while the file was being sent/) } });
      } finally {
        connection.close();
      }
      expect(await documentRows()).toBe(0);
      await waitUntil(() => partFiles().length === 0);
    });
  });
});

describe('A client that stalls mid-upload (e2e)', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp({ HTTP_REQUEST_TIMEOUT_MS: '1000' });
    // Node looks for late requests every 30 s, and a request timeout below its 60 s header timeout waits for the latter.
    Object.assign(t.app.getHttpServer(), { connectionsCheckingInterval: 50, headersTimeout: 1000 });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t.close();
  });

  it('is cut off after HTTP_REQUEST_TIMEOUT_MS with 408, and nothing of its scan stays on disk', async () => {
    await t.reset();
    const uploadRoot = resolve(t.config.env.UPLOAD_DIR);
    const leftBehind = new Set(partFilesUnder(uploadRoot));
    const partFiles = () => partFilesUnder(uploadRoot).filter((path) => !leftBehind.has(path));
    const world = await applicationWorld(t);
    const app = await createDraftApplication(t, world.family, world.hospital.id);
    const head = Buffer.concat([field('type', 'other'), fileHead('scan.pdf')]);
    const connection = await RawConnection.open(port);
    try {
      connection.postMultipart(`${API}/applications/${app.id}/documents`, world.family, head.length + MiB + closing.length);
      connection.write(Buffer.concat([head, scan(MiB).subarray(0, 64 * 1024)]));
      await waitUntil(() => connection.answers().length > 0);
      expect(connection.answers()[0]).toMatchObject({ status: 408, body: { status: 408 } });
    } finally {
      connection.close();
    }
    await waitUntil(() => partFiles().length === 0);
  });
});
