import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { signedInUser } from 'test/support/factories';
import { MAX_DOCUMENTS_PER_APPLICATION } from 'src/applications/documents/documents.service';
import { FileCipher } from 'src/common/crypto/file-cipher';
import { documentStorage } from 'src/storage/storage.module';
import {
  applicationWorld,
  createDraftApplication,
  createSubmittedApplication,
  downloadDocument,
  DOCUMENT_TYPES_FOR_SUBMISSION,
  files,
  uploadDocument,
  uploadRequiredDocuments,
} from 'test/support/application-factory';
import { filesUnder } from 'test/support/files-under';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');


describe('Application documents (e2e)', () => {
  let t: TestApp;
  let uploadRoot: string;
  beforeAll(async () => {
    t = await startTestApp();
    uploadRoot = resolve(t.config.env.UPLOAD_DIR);
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  async function draft() {
    const world = await applicationWorld(t);
    const app = await createDraftApplication(t, world.family, world.hospital.id);
    return { ...world, app };
  }

  const documentRows = async (applicationId: string) =>
    (await t.dataSource.query('SELECT count(*)::int AS n FROM application_documents WHERE application_id = $1', [applicationId]))[0].n as number;

  it('stores a PDF under a generated key and serves it back only as an attachment, auditing staff downloads', async () => {
    const { family, app } = await draft();
    const content = files.pdf('% 王小明 diagnosis\n');
    const before = new Set(filesUnder(uploadRoot));
    const res = await uploadDocument(t, family, app.id, 'diagnosis_certificate', content, '诊断书 (1).pdf');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 'diagnosis_certificate', fileName: '诊断书 (1).pdf', size: content.length, sha256: sha256(content) });

    const added = filesUnder(uploadRoot).filter((f) => !before.has(f));
    expect(added).toEqual([`documents/${res.body.id.slice(0, 2)}/${res.body.id}`]);
    // Encrypted on disk (FileCipher): nothing of the scan readable, the plaintext's size plus header and one tag.
    const stored = readFileSync(join(uploadRoot, added[0]));
    expect(FileCipher.isSealed(stored)).toBe(true);
    expect(stored.includes(Buffer.from('王小明')) || stored.includes(Buffer.from('%PDF'))).toBe(false);
    expect(stored.length).toBe(content.length + 32);
    expect(statSync(join(uploadRoot, added[0])).mode & 0o777).toBe(0o600);
    const [row] = await t.dataSource.query('SELECT storage_key, content_type FROM application_documents WHERE id = $1', [res.body.id]);
    expect(row).toEqual({ storage_key: added[0], content_type: 'application/pdf' });

    const download = await downloadDocument(t, family, app.id, res.body.id);
    expect(download.status).toBe(200);
    expect((download.body as Buffer).equals(content)).toBe(true);
    expect(download.headers['content-type']).toBe('application/pdf');
    expect(download.headers['x-content-type-options']).toBe('nosniff');
    expect(download.headers['content-disposition']).toBe(
      `attachment; filename="___ (1).pdf"; filename*=UTF-8''%E8%AF%8A%E6%96%AD%E4%B9%A6%20%281%29.pdf`,
    );
    expect(download.headers['cache-control']).toBe('private, no-store');
    const staffDownloads = () => t.dataSource.query(`SELECT actor_id, summary FROM audit_events WHERE action = 'document.downloaded'`);
    expect(await staffDownloads()).toEqual([]);

    // Staff only see submitted applications, and what a submission took; a reviewer's download is audited.
    await t.dataSource.query(`UPDATE applications SET status = 'submitted', submitted_at = now(), first_submitted_at = now() WHERE id = $1`, [app.id]);
    await t.dataSource.query(`UPDATE application_documents SET submitted = true WHERE application_id = $1`, [app.id]);
    const reviewer = await signedInUser(t, 'reviewer');
    const byReviewer = await t.http.get(`${API}/applications/${app.id}/documents/${res.body.id}/content`).set(reviewer.auth);
    expect(byReviewer.status).toBe(200);
    expect(await staffDownloads()).toEqual([{ actor_id: reviewer.id, summary: { documentId: res.body.id, type: 'diagnosis_certificate' } }]);
    const list = await t.http.get(`${API}/applications/${app.id}/documents`).set(reviewer.auth).expect(200);
    expect(list.body.items).toEqual([{ ...res.body, submitted: true }]);
    const fund = await signedInUser(t, 'fund_finance');
    expect((await t.http.get(`${API}/applications/${app.id}/documents/${res.body.id}/content`).set(fund.auth)).status).toBe(403);

    // The file gone between the row's read and the file's (a concurrent deletion): 404, not 500.
    rmSync(join(uploadRoot, added[0]));
    const gone = await t.http.get(`${API}/applications/${app.id}/documents/${res.body.id}/content`).set(family.auth);
    expect(gone.status).toBe(404);
    expect(gone.headers['content-type']).toMatch(/problem\+json/);
  });

  it('serves a document stored before encryption as it is, encrypts it in place on `documents:seal`, and refuses an altered one', async () => {
    const { family, app } = await draft();
    const scan = files.pdf('% 王小明 guardian id 110101198001011234\n'.repeat(4000));
    const other = files.pdf('% another family\n');
    const [old, sealedAlready] = [
      await uploadDocument(t, family, app.id, 'guardian_id', scan, 'id.pdf'),
      await uploadDocument(t, family, app.id, 'diagnosis_certificate', other, 'dx.pdf'),
    ];
    const path = (id: string) => join(uploadRoot, 'documents', id.slice(0, 2), id);
    const seal = () => documentStorage(t.config).sealStoredBefore('');
    await seal(); // what earlier test files left in this worker's UPLOAD_DIR, so that the counts below are this test's
    writeFileSync(path(old.body.id), scan); // as an earlier release stored it
    const downloaded = async (id: string) => (await downloadDocument(t, family, app.id, id)).body as Buffer;
    expect((await downloaded(old.body.id)).equals(scan)).toBe(true);

    const sealedBefore = readFileSync(path(sealedAlready.body.id));
    expect(await seal()).toEqual({ sealed: 1, alreadySealed: expect.any(Number) });
    const stored = readFileSync(path(old.body.id));
    expect(FileCipher.isSealed(stored) && !stored.includes(Buffer.from('110101198001011234'))).toBe(true);
    expect(readFileSync(path(sealedAlready.body.id)).equals(sealedBefore)).toBe(true); // not sealed twice
    expect((await downloaded(old.body.id)).equals(scan)).toBe(true);
    expect((await downloaded(sealedAlready.body.id)).equals(other)).toBe(true);
    expect(await seal()).toEqual({ sealed: 0, alreadySealed: expect.any(Number) });

    // An altered file is never served as if whole: the download breaks off before the altered chunk.
    stored[stored.length - 3] ^= 0x01;
    writeFileSync(path(old.body.id), stored);
    await expect(downloadDocument(t, family, app.id, old.body.id)).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    // Altered in its first chunk: nothing is sent but a 500 (the store is at fault, not the request), logged.
    stored[30] ^= 0x01;
    writeFileSync(path(old.body.id), stored);
    expect((await downloadDocument(t, family, app.id, old.body.id)).status).toBe(500);
  });

  it('pages through the documents of an application one at a time, each once, oldest first', async () => {
    const world = await applicationWorld(t);
    const app = await createDraftApplication(t, world.family, world.hospital.id);
    const uploaded = await uploadRequiredDocuments(t, world.family, app.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page <= uploaded.length + 1; page++) {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.http.get(`${API}/applications/${app.id}/documents`).query({ limit: 1, ...(cursor ? { cursor } : {}) }).set(world.family.auth).expect(200);
      seen.push(...res.body.items.map((d: { id: string }) => d.id));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(uploaded);
  });

  it('refuses a file over the limit with 413 problem+json and keeps nothing', async () => {
    const { family, app } = await draft();
    const before = filesUnder(uploadRoot).length;
    const limit = t.config.env.UPLOAD_MAX_BYTES;
    const big = Buffer.concat([files.pdf(), Buffer.alloc(limit + 1 - files.pdf().length, 0x20)]);
    const res = await uploadDocument(t, family, app.id, 'cost_estimate', big, 'big.pdf');
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 413, type: expect.stringContaining('file-too-large') });
    expect(await documentRows(app.id)).toBe(0);
    expect(filesUnder(uploadRoot).length).toBe(before);

    // Exactly at the limit is fine.
    const atLimit = big.subarray(0, limit);
    const ok = await uploadDocument(t, family, app.id, 'cost_estimate', atLimit, 'big.pdf');
    expect(ok.status).toBe(201);
    expect(ok.body.size).toBe(limit);
    expect(ok.body.sha256).toBe(sha256(atLimit));
  });

  it('refuses an executable renamed .pdf and a PDF/HTML polyglot with 415, whatever the declared type', async () => {
    const { family, app } = await draft();
    const before = filesUnder(uploadRoot).length;
    const exe = await uploadDocument(t, family, app.id, 'invoice', files.exe(), 'invoice.pdf');
    expect(exe.status).toBe(415);
    expect(exe.body.type).toContain('unsupported-file-type');
    const polyglot = files.pdf('<html><body><script>fetch("/api/v1/me")</script></body></html>\n');
    const poly = await uploadDocument(t, family, app.id, 'invoice', polyglot, 'invoice.pdf');
    expect(poly.status).toBe(415);
    const html = await uploadDocument(t, family, app.id, 'invoice', Buffer.from('<!doctype html><p>hi</p>'), 'invoice.pdf');
    expect(html.status).toBe(415);
    expect(await documentRows(app.id)).toBe(0);
    expect(filesUnder(uploadRoot).length).toBe(before);
  });

  it('refuses an empty file, a missing file, an unknown type and extra fields with 400 naming them', async () => {
    const { family, app } = await draft();
    const empty = await uploadDocument(t, family, app.id, 'other', Buffer.alloc(0), 'empty.pdf');
    expect(empty.status).toBe(400);
    expect(empty.body.errors).toEqual([{ field: 'file', message: 'is empty' }]);

    const noFile = await t.http.post(`${API}/applications/${app.id}/documents`).set(family.auth).field('type', 'other');
    expect(noFile.status).toBe(400);
    expect(noFile.body.errors).toEqual([{ field: 'file', message: 'is required' }]);

    const badType = await uploadDocument(t, family, app.id, 'selfie', files.png(), 'me.png');
    expect(badType.status).toBe(400);
    expect(badType.body.errors.map((e: { field: string }) => e.field)).toEqual(['type']);
    const noType = await t.http.post(`${API}/applications/${app.id}/documents`).set(family.auth).attach('file', files.png(), 'me.png');
    expect(noType.body.errors).toEqual([{ field: 'type', message: expect.stringMatching(/^is required: one of /) }]);

    const extra = await t.http
      .post(`${API}/applications/${app.id}/documents`)
      .set(family.auth)
      .field('type', 'other')
      .field('applicationId', 'x')
      .attach('file', files.png(), 'a.png');
    expect(extra.status).toBe(400);
    expect(extra.body.errors).toEqual([{ field: 'applicationId', message: 'is not an accepted field' }]);
    const twoTypes = await t.http.post(`${API}/applications/${app.id}/documents`).set(family.auth).field('type', 'other').field('type', 'invoice').attach('file', files.png(), 'a.png');
    expect([twoTypes.status, twoTypes.body.errors]).toEqual([400, [{ field: 'type', message: 'is given more than once' }]]);

    const json = await t.http.post(`${API}/applications/${app.id}/documents`).set(family.auth).send({ type: 'other' });
    expect(json.status).toBe(415);
    expect(await documentRows(app.id)).toBe(0);
  });

  it('stores path-traversal and control-character names sanitized, and the detected type decides the extension', async () => {
    const { family, app } = await draft();
    const traversal = await uploadDocument(t, family, app.id, 'other', files.jpeg(), '../../../etc/passwd.jpg');
    expect(traversal.status).toBe(201);
    expect(traversal.body.fileName).toBe('passwd.jpg');
    const windows = await uploadDocument(t, family, app.id, 'other', files.pdf(), '..\\..\\boot.ini\u202Efdp.pdf');
    expect(windows.status).toBe(201);
    expect(windows.body.fileName).toBe('boot.inifdp.pdf');
    const renamed = await uploadDocument(t, family, app.id, 'other', files.png(), 'scan.exe');
    expect(renamed.status).toBe(201);
    expect(renamed.body).toMatchObject({ fileName: 'scan.exe.png', contentType: 'image/png' });

    const keys = (await t.dataSource.query('SELECT file_name, storage_key FROM application_documents ORDER BY created_at')) as {
      file_name: string;
      storage_key: string;
    }[];
    expect(keys.map((k) => k.file_name)).toEqual(['passwd.jpg', 'boot.inifdp.pdf', 'scan.exe.png']);
    for (const { storage_key } of keys) expect(storage_key).toMatch(/^documents\/[0-9a-f]{2}\/[0-9a-f-]{36}$/);
    expect(filesUnder(uploadRoot).some((f) => f.includes('passwd') || f.includes('..'))).toBe(false);
  });

  it('accepts uploads again once information is requested; withdrawing keeps what reviewers saw and removes the unsent answer', async () => {
    const { hospital, family } = await applicationWorld(t);
    const app = await createSubmittedApplication(t, family, hospital.id);
    const reviewer = await signedInUser(t, 'reviewer');
    await t.http.post(`${API}/applications/${app.id}/start-review`).set(reviewer.auth).expect(200);
    await t.http.post(`${API}/applications/${app.id}/request-info`).set(reviewer.auth).send({ message: 'Please add the HLA report.' }).expect(200);
    const answer = await uploadDocument(t, family, app.id, 'hla_report', files.png(), 'hla.png');
    expect(answer.status).toBe(201);
    const [{ storage_key: answerKey }] = await t.dataSource.query(`SELECT storage_key FROM application_documents WHERE id = $1`, [answer.body.id]);
    expect(filesUnder(uploadRoot).some((f) => f.endsWith(answerKey))).toBe(true);

    const withdrawn = await t.http.post(`${API}/applications/${app.id}/withdraw`).set(family.auth).send();
    expect(withdrawn.status).toBe(200);
    const late = await uploadDocument(t, family, app.id, 'hla_report', files.png(), 'hla.png');
    expect(late.status).toBe(409);
    expect(late.body.currentStatus).toBe('withdrawn');
    // The submitted ones stay as reviewed evidence; the answer no reviewer saw goes, row and file, counted in the audit event.
    const kept = (await t.dataSource.query(`SELECT id FROM application_documents WHERE application_id = $1`, [app.id])).map((r: { id: string }) => r.id);
    expect(kept.sort()).toEqual([...app.documentIds].sort());
    expect(filesUnder(uploadRoot).some((f) => f.endsWith(answerKey))).toBe(false);
    const [event] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action = 'application.withdrawn'`, [app.id]);
    expect(event.summary).toMatchObject({ documentsRemoved: 1 });
  });

  // Staff never saw a draft; once withdrawn the family can no longer delete anything, and no one would ever use it.
  it("withdrawing a draft never submitted removes its documents (rows and files), audited; the family's other drafts keep theirs", async () => {
    const { hospital, family, app } = await draft();
    expect((await uploadDocument(t, family, app.id, 'guardian_id', files.png(), 'id-card.png')).status).toBe(201);
    expect((await uploadDocument(t, family, app.id, 'household_register', files.jpeg(), 'hukou.jpg')).status).toBe(201);
    const other = await createDraftApplication(t, family, hospital.id);
    expect((await uploadDocument(t, family, other.id, 'guardian_id', files.png(), 'id-card.png')).status).toBe(201);
    const keys = ((await t.dataSource.query('SELECT storage_key FROM application_documents WHERE application_id = $1', [app.id])) as { storage_key: string }[]).map((r) => r.storage_key);
    expect(keys).toHaveLength(2);

    await t.http.post(`${API}/applications/${app.id}/withdraw`).set(family.auth).send().expect(200);
    expect(await documentRows(app.id)).toBe(0);
    const onDisk = filesUnder(uploadRoot);
    for (const key of keys) expect(onDisk).not.toContain(key);
    expect(await documentRows(other.id)).toBe(1);
    const [event] = await t.dataSource.query(`SELECT summary FROM audit_events WHERE object_id = $1 AND action = 'application.withdrawn'`, [app.id]);
    expect(event.summary).toMatchObject({ from: 'draft', to: 'withdrawn', documentsRemoved: 2 });
  });

  it('lets the family remove a document while editable (row and file gone), and nobody else', async () => {
    const { family, app } = await draft();
    const doc = await uploadDocument(t, family, app.id, 'other', files.png(), 'wrong.png');
    const keep = await uploadDocument(t, family, app.id, 'other', files.jpeg(), 'right.jpg');
    const [{ storage_key: key }] = await t.dataSource.query('SELECT storage_key FROM application_documents WHERE id = $1', [doc.body.id]);
    expect(filesUnder(uploadRoot)).toContain(key);

    const stranger = await signedInUser(t, 'applicant');
    expect((await t.http.delete(`${API}/applications/${app.id}/documents/${doc.body.id}`).set(stranger.auth)).status).toBe(404);
    await t.http.delete(`${API}/applications/${app.id}/documents/${doc.body.id}`).set(family.auth).expect(204);
    expect(filesUnder(uploadRoot)).not.toContain(key);
    expect((await t.http.delete(`${API}/applications/${app.id}/documents/${doc.body.id}`).set(family.auth)).status).toBe(404);
    const list = await t.http.get(`${API}/applications/${app.id}/documents`).set(family.auth).expect(200);
    expect(list.body.items.map((d: { id: string }) => d.id)).toEqual([keep.body.id]);

    await t.dataSource.query(`UPDATE applications SET status = 'submitted', submitted_at = now(), first_submitted_at = now() WHERE id = $1`, [app.id]);
    const late = await t.http.delete(`${API}/applications/${app.id}/documents/${keep.body.id}`).set(family.auth);
    expect(late.status).toBe(409);
    expect(await documentRows(app.id)).toBe(1);
  });

  // A reviewer asked for more; the family must not be able to make the evidence of the first round disappear.
  it('keeps what was submitted when a reviewer asks for more: only documents added since can be removed', async () => {
    const { hospital, family } = await applicationWorld(t);
    const app = await createSubmittedApplication(t, family, hospital.id);
    const reviewer = await signedInUser(t, 'reviewer');
    await t.http.post(`${API}/applications/${app.id}/start-review`).set(reviewer.auth).expect(200);
    await t.http.post(`${API}/applications/${app.id}/request-info`).set(reviewer.auth).send({ message: 'Please add a clearer income proof.' }).expect(200);
    const listed = async () => (await t.http.get(`${API}/applications/${app.id}/documents`).set(family.auth).expect(200)).body.items as { id: string; type: string }[];
    const submitted = await listed();
    const incomeProof = submitted.find((d) => d.type === 'income_proof')!;
    const [{ storage_key: key }] = await t.dataSource.query('SELECT storage_key FROM application_documents WHERE id = $1', [incomeProof.id]);

    const refused = await t.http.delete(`${API}/applications/${app.id}/documents/${incomeProof.id}`).set(family.auth);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: expect.stringMatching(/document-submitted$/), detail: expect.stringContaining('upload a corrected document') });
    expect(filesUnder(uploadRoot)).toContain(key);

    const corrected = await uploadDocument(t, family, app.id, 'income_proof', files.pdf(), 'income-2.pdf');
    const mistake = await uploadDocument(t, family, app.id, 'other', files.png(), 'wrong.png');
    await t.http.delete(`${API}/applications/${app.id}/documents/${mistake.body.id}`).set(family.auth).expect(204);
    expect((await listed()).map((d) => d.id).sort()).toEqual([...submitted.map((d) => d.id), corrected.body.id].sort());
    expect(await t.dataSource.query(`SELECT action FROM audit_events WHERE object_id = $1 AND action = 'document.deleted'`, [app.id])).toHaveLength(1);
  });

  // Several api replicas write created_at and submitted_at with their own clocks: which documents a submission took
  // must not depend on how those clocks compare.
  it('records which documents a submission took, whatever the clocks of the replicas that wrote them', async () => {
    const { hospital, family } = await applicationWorld(t);
    const app = await createSubmittedApplication(t, family, hospital.id);
    const reviewer = await signedInUser(t, 'reviewer');
    const askForMore = async () => {
      await t.http.post(`${API}/applications/${app.id}/start-review`).set(reviewer.auth).expect(200);
      await t.http.post(`${API}/applications/${app.id}/request-info`).set(reviewer.auth).send({ message: 'Please add the latest blood count.' }).expect(200);
    };
    await askForMore();
    const setCreatedAt = (documentId: string, offset: string) =>
      t.dataSource.query(`UPDATE application_documents d SET created_at = a.submitted_at + $2::interval FROM applications a WHERE a.id = d.application_id AND d.id = $1`, [
        documentId,
        offset,
      ]);
    const remove = (documentId: string) => t.http.delete(`${API}/applications/${app.id}/documents/${documentId}`).set(family.auth);
    const flags = async () =>
      Object.fromEntries(((await t.http.get(`${API}/applications/${app.id}/documents`).set(family.auth).expect(200)).body.items as { id: string; submitted: boolean }[]).map((d) => [d.id, d.submitted]));

    // Uploaded before the submit by a replica whose clock runs five minutes fast: reviewers assessed it all the same.
    const [assessed] = app.documentIds;
    await setCreatedAt(assessed, '5 minutes');
    const refused = await remove(assessed);
    expect(refused.status).toBe(409);
    expect(refused.body.type).toMatch(/document-submitted$/);

    // Uploaded while answering by a replica whose clock runs five minutes slow: not submitted yet, so the family's to remove.
    const answer = await uploadDocument(t, family, app.id, 'other', files.png(), 'blood-count.png');
    const mistake = await uploadDocument(t, family, app.id, 'other', files.jpeg(), 'wrong.jpg');
    expect(answer.body.submitted).toBe(false);
    for (const doc of [answer, mistake]) await setCreatedAt(doc.body.id, '-5 minutes');
    expect(await flags()).toEqual({ ...Object.fromEntries(app.documentIds.map((id) => [id, true])), [answer.body.id]: false, [mistake.body.id]: false });
    await remove(mistake.body.id).expect(204);

    // The resubmission takes the answer with it: after the next question it stays too, however its time compares.
    await t.http.post(`${API}/applications/${app.id}/submit`).set(family.auth).send().expect(200);
    await askForMore();
    await setCreatedAt(answer.body.id, '1 minute');
    expect((await remove(answer.body.id)).status).toBe(409);
    expect(await flags()).toEqual({ ...Object.fromEntries(app.documentIds.map((id) => [id, true])), [answer.body.id]: true });
  });

  it('refuses more fields than an upload may carry, naming the limit, with or without a file after them, keeping nothing', async () => {
    const { family, app } = await draft();
    const before = filesUnder(uploadRoot).length;
    const withFields = (count: number) => {
      let request = t.http.post(`${API}/applications/${app.id}/documents`).set(family.auth).field('type', 'other');
      for (let n = 1; n < count; n++) request = request.field(`extra${n}`, 'x');
      return request;
    };
    for (const res of [await withFields(7).attach('file', files.png(), 'a.png'), await withFields(6), await withFields(6).attach('file', files.png(), 'a.png')]) {
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        type: expect.stringMatching(/validation-failed$/),
        detail: expect.stringContaining('at most 5 fields'),
        errors: [{ field: 'extra5', message: expect.stringContaining('at most 5 fields') }],
      });
    }
    // At the limit, each field is named for what it is.
    const atLimit = await withFields(5).attach('file', files.png(), 'a.png');
    expect(atLimit.status).toBe(400);
    expect(atLimit.body.errors.map((e: { field: string }) => e.field)).toEqual(['extra1', 'extra2', 'extra3', 'extra4']);
    expect(await documentRows(app.id)).toBe(0);
    expect(filesUnder(uploadRoot).length).toBe(before);
  });

  it('refuses a second file in one upload with 413 saying one file per upload, keeping neither', async () => {
    const { family, app } = await draft();
    const before = filesUnder(uploadRoot).length;
    const two = await t.http.post(`${API}/applications/${app.id}/documents`).set(family.auth).field('type', 'other').attach('file', files.png(), 'a.png').attach('file', files.jpeg(), 'b.jpg');
    expect(two.status).toBe(413);
    expect(two.body).toMatchObject({ type: expect.stringMatching(/too-many-files$/), detail: expect.stringContaining('Only one file per upload') });
    expect(await documentRows(app.id)).toBe(0);
    expect(filesUnder(uploadRoot).length).toBe(before);
  });

  it('documents every application route in the OpenAPI document', async () => {
    const doc = await t.http.get('/docs-json').expect(200);
    const paths = Object.keys(doc.body.paths);
    for (const path of [
      '/api/v1/applications',
      '/api/v1/applications/{id}',
      '/api/v1/applications/{id}/submit',
      '/api/v1/applications/{id}/withdraw',
      '/api/v1/applications/{id}/assessment',
      '/api/v1/applications/{id}/documents',
      '/api/v1/applications/{id}/documents/{docId}/content',
      '/api/v1/policies/means-assessment',
    ]) {
      expect(paths).toContain(path);
    }
    expect(Object.keys(doc.body.paths['/api/v1/applications/{id}/documents'].post.requestBody.content)).toEqual(['multipart/form-data']);
  });
});

describe('Application documents: the budget of one application (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ UPLOAD_MAX_TOTAL_BYTES: '8192' });
  });
  afterAll(async () => {
    await t.close();
  });

  // Without a budget, one account could fill the document store with 50 × 10 MiB per draft.
  it('refuses a document that would take the application past UPLOAD_MAX_TOTAL_BYTES, keeping nothing of it', async () => {
    await t.reset();
    const { hospital, family } = await applicationWorld(t);
    const app = await createDraftApplication(t, family, hospital.id);
    const scan = (n: number) => files.pdf(`${n}`.repeat(3000)); // ~3 KB each
    for (const n of [1, 2]) expect((await uploadDocument(t, family, app.id, 'other', scan(n), `scan-${n}.pdf`)).status).toBe(201);
    const uploadRoot = resolve(t.config.env.UPLOAD_DIR);
    const filesBefore = filesUnder(uploadRoot).length;

    const refused = await uploadDocument(t, family, app.id, 'other', scan(3), 'scan-3.pdf');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: expect.stringMatching(/documents-too-large$/), maxTotalBytes: 8192, detail: expect.stringContaining('at most 8 KiB in all') });
    expect(filesUnder(uploadRoot)).toHaveLength(filesBefore);
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM application_documents WHERE application_id = $1', [app.id])).toEqual([{ n: 2 }]);

    // Removing one makes room again.
    const [first] = (await t.http.get(`${API}/applications/${app.id}/documents`).set(family.auth).expect(200)).body.items;
    await t.http.delete(`${API}/applications/${app.id}/documents/${first.id}`).set(family.auth).expect(204);
    expect((await uploadDocument(t, family, app.id, 'other', scan(3), 'scan-3.pdf')).status).toBe(201);
  });

  // The family cannot remove what it submitted: were submitted documents counted, a full first round left no room for
  // the document a reviewer asks for, and the 409's "remove one first" was refused in turn.
  it('gives each round of questions the whole budget and count: documents already submitted do not count', async () => {
    await t.reset();
    const { hospital, family } = await applicationWorld(t);
    const reviewer = await signedInUser(t, 'reviewer');
    const askForMore = async (id: string) => {
      await t.http.post(`${API}/applications/${id}/start-review`).set(reviewer.auth).expect(200);
      await t.http.post(`${API}/applications/${id}/request-info`).set(reviewer.auth).send({ message: 'Please add the latest blood count.' }).expect(200);
    };
    const submitWith = async (extra: (id: string) => Promise<void>) => {
      const app = await createDraftApplication(t, family, hospital.id);
      await uploadRequiredDocuments(t, family, app.id);
      await extra(app.id);
      await t.http.post(`${API}/applications/${app.id}/submit`).set(family.auth).send().expect(200);
      await askForMore(app.id);
      return app;
    };

    // The budget: the first round's scans fill it.
    const full = await submitWith(async (id) => {
      expect((await uploadDocument(t, family, id, 'other', files.pdf('1'.repeat(7900)), 'scan.pdf')).status).toBe(201);
      expect((await uploadDocument(t, family, id, 'other', files.png(), 'photo.png')).status).toBe(409);
    });
    const [{ id: bigScan }] = (await t.http.get(`${API}/applications/${full.id}/documents`).set(family.auth).expect(200)).body.items.filter((d: { size: number }) => d.size > 7000);
    expect((await t.http.delete(`${API}/applications/${full.id}/documents/${bigScan}`).set(family.auth)).status).toBe(409);
    const answer = await uploadDocument(t, family, full.id, 'other', files.pdf('2'.repeat(4000)), 'blood-count.pdf');
    expect(answer.status).toBe(201);
    // The answers have the budget of their own, and no more.
    const tooMuch = await uploadDocument(t, family, full.id, 'other', files.pdf('3'.repeat(4200)), 'more.pdf');
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.type).toMatch(/documents-too-large$/);
    await t.http.post(`${API}/applications/${full.id}/submit`).set(family.auth).send().expect(200);

    // The count: fifty documents submitted, and the reviewer asks for one more.
    const many = await submitWith(async (id) => {
      for (let n = DOCUMENT_TYPES_FOR_SUBMISSION.length; n < MAX_DOCUMENTS_PER_APPLICATION; n++) {
        expect((await uploadDocument(t, family, id, 'other', files.png(), `photo-${n}.png`)).status).toBe(201);
      }
    });
    expect((await uploadDocument(t, family, many.id, 'other', files.png(), 'blood-count.png')).status).toBe(201);
  });
});
