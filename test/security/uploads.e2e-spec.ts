import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { applicationWorld, createDraftApplication, files } from 'test/support/application-factory';
import { SignedIn } from 'test/support/factories';
import { tableCounts } from 'test/support/security-world';
import { writeSecurityFigure } from 'test/support/security-report';
import { filesUnder } from 'test/support/files-under';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
/** Above the 4 KiB the inspector reads before deciding, so content past the inspected head fits too. */
const LIMIT = 8192;

/** A multipart body built byte by byte, so names can carry NUL, CR/LF and quotes that form-data libraries escape. */
function multipart(fields: Record<string, string>, file?: { name: Buffer | string; content: Buffer; type?: string }) {
  const boundary = `----sprout${randomUUID().replace(/-/g, '')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="`));
    parts.push(Buffer.isBuffer(file.name) ? file.name : Buffer.from(file.name, 'utf8'));
    parts.push(Buffer.from(`"\r\nContent-Type: ${file.type ?? 'application/pdf'}\r\n\r\n`));
    parts.push(file.content, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}


const ascii = (s: string) => Buffer.from(s, 'latin1');
const pdfWithTail = (tail: string, pad = 0) => Buffer.concat([files.pdf(), Buffer.alloc(pad, 0x20), ascii(tail)]);

/** Contents that must never be stored, whatever name and declared type they come with. */
const HOSTILE: [string, Buffer][] = [
  ['Windows PE (MZ)', files.exe()],
  ['ELF binary', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56)])],
  ['Mach-O 64', Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), Buffer.alloc(60)])],
  ['Java class / fat Mach-O', Buffer.concat([Buffer.from([0xca, 0xfe, 0xba, 0xbe]), Buffer.alloc(60)])],
  ['shell script', ascii('#!/bin/sh\nrm -rf / --no-preserve-root\n')],
  ['ZIP (docx, jar, apk)', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(60)])],
  ['HTML', ascii('<!DOCTYPE html><html><script>alert(document.cookie)</script></html>')],
  ['HTML after whitespace and a BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ascii('   \n<html><body onload="x()">')])],
  ['SVG with script', ascii('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')],
  ['PHP', ascii('<?php system($_GET["c"]); ?>')],
  ['GIF', ascii('GIF89a\x01\x00\x01\x00\x00\x00\x00;')],
  ['EICAR test file', ascii('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*')],
  ['"%PDF" not at offset 0', ascii('hello %PDF-1.4\n%%EOF\n')],
  ['PDF/HTML polyglot', files.pdf('<html><script>fetch("/api/v1/me")</script></html>\n')],
  ['PNG/HTML polyglot', Buffer.concat([files.png(), ascii('<script>alert(1)</script>')])],
  ['JPEG/PHP polyglot', Buffer.concat([files.jpeg(), ascii('<?php echo 1; ?>')])],
  ['PDF carrying a Windows PE', Buffer.concat([files.pdf(), files.exe()])],
];

describe('Hostile uploads (e2e)', () => {
  let t: TestApp;
  let family: SignedIn;
  let hospitalId: string;
  let uploadRoot: string;
  const results: Record<string, number> = {};

  beforeAll(async () => {
    t = await startTestApp({ UPLOAD_MAX_BYTES: String(LIMIT), STATEMENT_MAX_BYTES: String(LIMIT) });
    uploadRoot = resolve(t.config.env.UPLOAD_DIR);
  });
  afterAll(async () => {
    writeSecurityFigure('uploads', results);
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    const w = await applicationWorld(t);
    family = w.family;
    hospitalId = w.hospital.id;
  });

  const post = (applicationId: string, fields: Record<string, string>, file?: Parameters<typeof multipart>[1]) => {
    const { body, contentType } = multipart(fields, file);
    return t.http.post(`${API}/applications/${applicationId}/documents`).set(family.auth).set('Content-Type', contentType).send(body);
  };

  it(`refuses ${HOSTILE.length} disguised executables, scripts, markup and polyglots (415) under every claimed name and type, storing nothing`, async () => {
    const app = await createDraftApplication(t, family, hospitalId);
    const before = filesUnder(uploadRoot).length;
    const counts = await tableCounts(t);
    const accepted: string[] = [];
    for (const [label, content] of HOSTILE) {
      for (const [name, type] of [
        ['scan.pdf', 'application/pdf'],
        ['photo.jpg', 'image/jpeg'],
        ['x.png', 'image/png'],
      ]) {
        const res = await post(app.id, { type: 'other' }, { name, content, type });
        results[`${label} as ${name}`] = res.status;
        if (res.status !== 415 || !/problem\+json/.test(res.headers['content-type'])) accepted.push(`${label} as ${name}: ${res.status}`);
      }
    }
    expect(accepted).toEqual([]);
    expect(await tableCounts(t)).toEqual(counts);
    expect(filesUnder(uploadRoot).length).toBe(before);
  });

  it('refuses zero bytes (400) and limit+1 bytes (413); exactly the limit is accepted', async () => {
    const app = await createDraftApplication(t, family, hospitalId);
    const empty = await post(app.id, { type: 'other' }, { name: 'a.pdf', content: Buffer.alloc(0) });
    expect(empty.status).toBe(400);
    const pad = (size: number) => Buffer.concat([files.pdf(), Buffer.alloc(size - files.pdf().length, 0x20)]);
    const over = await post(app.id, { type: 'other' }, { name: 'big.pdf', content: pad(LIMIT + 1) });
    expect(over.status).toBe(413);
    expect(over.headers['content-type']).toMatch(/problem\+json/);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM application_documents`);
    expect(n).toBe(0);
    const exact = await post(app.id, { type: 'other' }, { name: 'exact.pdf', content: pad(LIMIT) });
    expect(exact.status).toBe(201);
    expect(exact.body.size).toBe(LIMIT);
    results['limit+1'] = over.status;
    results.limit = exact.status;
  });

  it('refuses two files in one request and files in the wrong field, storing nothing', async () => {
    const app = await createDraftApplication(t, family, hospitalId);
    const res = await t.http
      .post(`${API}/applications/${app.id}/documents`)
      .set(family.auth)
      .field('type', 'other')
      .attach('file', files.pdf(), 'a.pdf')
      .attach('file', files.pdf(), 'b.pdf');
    expect([400, 413]).toContain(res.status);
    const wrongField = await t.http.post(`${API}/applications/${app.id}/documents`).set(family.auth).field('type', 'other').attach('document', files.pdf(), 'a.pdf');
    expect(wrongField.status).toBe(400);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM application_documents`);
    expect(n).toBe(0);
  });

  it('answers a multipart body without a boundary, or cut short before its closing delimiter, with 400 (documents and statements), storing nothing', async () => {
    const app = await createDraftApplication(t, family, hospitalId);
    const { signedInUser } = await import('test/support/factories');
    const finance = await signedInUser(t, 'hospital_finance', { hospitalId });
    // The fields each route accepts, then a file part whose body stops before the closing delimiter.
    const cut = (fields: string) =>
      Buffer.from(`${fields}--cut\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 and then nothing`);
    const before = filesUnder(uploadRoot).length;
    const counts = await tableCounts(t);
    const routes = [
      [`${API}/applications/${app.id}/documents`, family, '--cut\r\nContent-Disposition: form-data; name="type"\r\n\r\nother\r\n'],
      [`${API}/reconciliation/statements`, finance, ''],
    ] as const;
    for (const [path, who, fields] of routes) {
      for (const [name, contentType, body] of [
        ['no boundary', 'multipart/form-data', Buffer.from('anything at all')],
        ['cut short', 'multipart/form-data; boundary=cut', cut(fields)],
      ] as const) {
        const res = await t.http.post(path).set(who.auth).set('Content-Type', contentType).send(body);
        results[`malformed multipart: ${name} → ${path.includes('documents') ? 'documents' : 'statements'}`] = res.status;
        expect([path, name, res.status]).toEqual([path, name, 400]);
        expect(res.headers['content-type']).toMatch(/problem\+json/);
        expect(res.body.errors).toEqual([expect.objectContaining({ field: 'file', message: expect.stringContaining('malformed') })]);
      }
    }
    expect(await tableCounts(t)).toEqual(counts);
    expect(filesUnder(uploadRoot).length).toBe(before);
  });

  it('sanitizes hostile names (traversal, NUL, CR/LF, quotes, bidi overrides, reserved names, 1000 characters) and serves them back safely', async () => {
    const app = await createDraftApplication(t, family, hospitalId);
    const names: (string | Buffer)[] = [
      '../../../../etc/passwd.pdf',
      '..\\..\\..\\windows\\system32\\drivers\\etc\\hosts.pdf',
      '/absolute/path.pdf',
      Buffer.concat([ascii('evil'), Buffer.from([0]), ascii('.exe.pdf')]),
      'x.pdf\r\nSet-Cookie: session=stolen',
      'quote";name=.pdf',
      '\u202Efdp.exe',
      'CON.pdf',
      '.htaccess',
      `${'a'.repeat(1000)}.pdf`,
      '<img src=x onerror=alert(1)>.pdf',
      '%2e%2e%2fpasswd.pdf',
      '李梅的诊断证明.pdf',
    ];
    const safe = /^[^/\\\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069"<>]+$/u;
    for (const name of names) {
      const res = await post(app.id, { type: 'other' }, { name, content: files.pdf() });
      expect({ name: String(name).slice(0, 40), status: res.status }).toEqual({ name: String(name).slice(0, 40), status: 201 });
      const fileName = res.body.fileName as string;
      expect(fileName).toMatch(safe);
      expect(fileName).not.toMatch(/^\.|\.\./);
      expect(Array.from(fileName).length).toBeLessThanOrEqual(255);
      const download = await t.http.get(`${API}/applications/${app.id}/documents/${res.body.id}/content`).set(family.auth).expect(200);
      expect(download.headers['content-disposition']).toMatch(/^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~!$&+,=:@-]*$/);
      expect(download.headers['content-type']).toBe('application/pdf');
      expect(download.headers['x-content-type-options']).toBe('nosniff');
      expect(download.headers['set-cookie']).toBeUndefined();
    }
    expect(await tableCounts(t)).toMatchObject({ application_documents: names.length });
    // Stored under generated keys inside the upload folder only.
    const stored = filesUnder(uploadRoot);
    for (const path of stored) expect(path).toMatch(/^documents\/[0-9a-f]{2}\/[0-9a-f-]{36}$/);
    expect(stored.length).toBeGreaterThanOrEqual(names.length);
  });

  it('a PDF whose HTML sits past the inspected head is stored but can only ever be downloaded as an inert PDF attachment', async () => {
    const app = await createDraftApplication(t, family, hospitalId);
    const res = await post(app.id, { type: 'other' }, { name: 'late.pdf', content: pdfWithTail('<html><script>alert(1)</script></html>', 5000), type: 'text/html' });
    expect(res.status).toBe(201);
    const download = await t.http.get(`${API}/applications/${app.id}/documents/${res.body.id}/content`).set(family.auth).expect(200);
    expect(download.headers['content-type']).toBe('application/pdf');
    expect(download.headers['content-disposition']).toMatch(/^attachment;/);
    expect(download.headers['x-content-type-options']).toBe('nosniff');
    expect(download.headers['content-security-policy']).toMatch(/sandbox/);
  });

  // Residual risk, reported rather than half-fixed: a PDF may carry JavaScript or /Launch actions for PDF readers. A
  // literal scan is easily dodged (name escapes such as /J#61vaScript, compressed object streams), so the real fix is
  // content disarm (re-rendering) or malware scanning before staff open documents. What the service guarantees today:
  it('a PDF with a JavaScript action is stored as an opaque PDF and never rendered by the browser from Sprout', async () => {
    const app = await createDraftApplication(t, family, hospitalId);
    const res = await post(app.id, { type: 'other' }, { name: 'js.pdf', content: files.pdf('2 0 obj << /Type /Action /S /JavaScript /JS (app.alert(1)) >> endobj\n') });
    expect(res.status).toBe(201);
    const download = await t.http.get(`${API}/applications/${app.id}/documents/${res.body.id}/content`).set(family.auth).expect(200);
    expect(download.headers['content-disposition']).toMatch(/^attachment;/);
    expect(download.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
  });

  describe('bank statements (reconciliation import)', () => {
    let finance: SignedIn;
    beforeEach(async () => {
      const { signedInUser } = await import('test/support/factories');
      finance = await signedInUser(t, 'hospital_finance', { hospitalId });
    });
    const postStatement = (content: Buffer, name = 'statement.xml') => {
      const { body, contentType } = multipart({}, { name, content, type: 'application/octet-stream' });
      return t.http.post(`${API}/reconciliation/statements`).set(finance.auth).set('Content-Type', contentType).send(body);
    };
    const camt = (inner: string, doctype = '') =>
      ascii(
        `<?xml version="1.0"?>${doctype}<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>${inner}</MsgId><CreDtTm>2026-09-16T08:00:00Z</CreDtTm></GrpHdr><Stmt><Id>S</Id><CreDtTm>2026-09-16T08:00:00Z</CreDtTm><Acct><Id><Othr><Id>1</Id></Othr></Id></Acct></Stmt></BkToCstmrStmt></Document>`,
      );

    it.each([
      ['XXE (external entity reading /etc/passwd)', camt('&xxe;', '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')],
      ['billion laughs', camt('&l9;', `<!DOCTYPE d [<!ENTITY l0 "ha">${Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('')}]>`)],
      ['a Windows executable named .csv', files.exe()],
      ['zero bytes', Buffer.alloc(0)],
      ['limit+1 bytes of CSV', Buffer.concat([ascii('date,amount,currency,reference,counterparty,description\n'), Buffer.alloc(LIMIT, 0x41)])],
      ['CSV with a formula-injection cell', ascii('date,amount,currency,reference,counterparty,description\n2026-09-15,=1+1,CNY,=cmd|calc!A1,x,y\n')],
    ])('refuses %s with 4xx problem+json and stores nothing', async (_, content) => {
      const res = await postStatement(content as Buffer);
      results[`statement: ${_}`] = res.status;
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(JSON.stringify(res.body)).not.toMatch(/root:|hahahaha/);
      const [{ s, e }] = await t.dataSource.query(`SELECT (SELECT count(*) FROM bank_statements)::int AS s, (SELECT count(*) FROM statement_entries)::int AS e`);
      expect({ s, e }).toEqual({ s: 0, e: 0 });
    });
  });
});
