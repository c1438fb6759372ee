import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ORPHAN_SWEEP_LOCK, OrphanSweeperService, REFERENCED_KEYS_SQL } from 'src/storage/orphan-sweeper.service';
import { applicationWorld, createDraftApplication, downloadDocument, Family, files, uploadDocument, uploadRequiredDocuments } from 'test/support/application-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const MINUTE_MS = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms);
const TWO_DAYS_AGO = () => ago(2 * 24 * 60 * MINUTE_MS);

/** Files no application_documents row references are removed by the worker once they are past the grace. */
describe('Sweeping orphaned document files (e2e)', () => {
  let t: TestApp;
  let uploadRoot: string;
  beforeAll(async () => {
    // A store of this file's own: the jest worker's shared one holds other files' leftovers, and the counts are exact.
    uploadRoot = mkdtempSync(join(tmpdir(), 'sprout-sweep-'));
    t = await startTestApp({ UPLOAD_DIR: uploadRoot });
  });
  afterAll(async () => {
    await t.close();
    rmSync(uploadRoot, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await t.reset();
    rmSync(join(uploadRoot, 'documents'), { recursive: true, force: true });
  });

  const sweeper = () => t.app.get(OrphanSweeperService);
  const stored = (key: string) => existsSync(join(uploadRoot, key));
  const age = (key: string, modifiedAt: Date) => utimesSync(join(uploadRoot, key), modifiedAt, modifiedAt);
  /** A file as an upload whose row never came would leave it, last written at `modifiedAt`. */
  function plant(modifiedAt: Date, suffix = ''): string {
    const id = randomUUID();
    const key = `documents/${id.slice(0, 2)}/${id}${suffix}`;
    mkdirSync(dirname(join(uploadRoot, key)), { recursive: true });
    writeFileSync(join(uploadRoot, key), '%PDF-1.4 王小明 身份证');
    age(key, modifiedAt);
    return key;
  }
  const keyOf = async (documentId: string) =>
    ((await t.dataSource.query('SELECT storage_key FROM application_documents WHERE id = $1', [documentId])) as { storage_key: string }[])[0].storage_key;

  async function documentStored(): Promise<{ family: Family; applicationId: string; documentId: string; key: string; content: Buffer }> {
    const { family, hospital } = await applicationWorld(t);
    const app = await createDraftApplication(t, family, hospital.id);
    const content = files.pdf('% 诊断书\n');
    const res = await uploadDocument(t, family, app.id, 'diagnosis_certificate', content);
    expect(res.status).toBe(201);
    const key = await keyOf(res.body.id);
    // As old as the orphans: it stays because its row references it, not for being recent.
    age(key, TWO_DAYS_AGO());
    return { family, applicationId: app.id, documentId: res.body.id, key, content };
  }

  it('removes orphans past the grace and day-old unfinished uploads; keeps documents, recent orphans and live uploads', async () => {
    const document = await documentStored();
    const orphan = plant(TWO_DAYS_AGO());
    const abandonedUpload = plant(TWO_DAYS_AGO(), `.${randomUUID()}.part`);
    const justStored = plant(ago(5 * MINUTE_MS));
    // Within HTTP_REQUEST_TIMEOUT_MS (an hour here): its upload may still be reading the request before inserting the row.
    const stillInItsRequest = plant(ago(65 * MINUTE_MS));
    const uploading = plant(ago(2 * 60 * MINUTE_MS), `.${randomUUID()}.part`);

    expect(await sweeper().sweep()).toEqual({ listed: 6, orphansRemoved: 1, unfinishedRemoved: 1, notRemoved: 0 });

    expect({ orphan: stored(orphan), abandonedUpload: stored(abandonedUpload) }).toEqual({ orphan: false, abandonedUpload: false });
    expect({ document: stored(document.key), justStored: stored(justStored), stillInItsRequest: stored(stillInItsRequest), uploading: stored(uploading) }).toEqual({
      document: true,
      justStored: true,
      stillInItsRequest: true,
      uploading: true,
    });
    const download = await downloadDocument(t, document.family, document.applicationId, document.documentId);
    expect(download.status).toBe(200);
    expect((download.body as Buffer).equals(document.content)).toBe(true);

    // Nothing left to do the second time.
    expect(await sweeper().sweep()).toEqual({ listed: 4, orphansRemoved: 0, unfinishedRemoved: 0, notRemoved: 0 });
  });

  it('asks the database batch by batch, removing only the files no row references', async () => {
    const { family, hospital } = await applicationWorld(t);
    const app = await createDraftApplication(t, family, hospital.id);
    const documentKeys = await Promise.all((await uploadRequiredDocuments(t, family, app.id)).map(keyOf));
    for (const key of documentKeys) age(key, TWO_DAYS_AGO());
    const orphans = Array.from({ length: 6 }, () => plant(TWO_DAYS_AGO()));

    expect(await sweeper().sweep(4)).toEqual({ listed: 11, orphansRemoved: 6, unfinishedRemoved: 0, notRemoved: 0 });
    expect(orphans.filter(stored)).toEqual([]);
    expect(documentKeys.filter(stored)).toEqual(documentKeys);
  });

  it('leaves the sweep to the worker already sweeping, and gives the lock back after its own pass', async () => {
    const orphan = plant(TWO_DAYS_AGO());
    const otherWorker = t.dataSource.createQueryRunner();
    await otherWorker.connect();
    try {
      await otherWorker.query('SELECT pg_advisory_lock($1)', [ORPHAN_SWEEP_LOCK]);
      expect(await sweeper().sweep()).toBeNull();
      expect(stored(orphan)).toBe(true);
      await otherWorker.query('SELECT pg_advisory_unlock($1)', [ORPHAN_SWEEP_LOCK]);
    } finally {
      await otherWorker.release();
    }

    expect(await sweeper().sweep()).toMatchObject({ orphansRemoved: 1 });
    expect(stored(orphan)).toBe(false);
    const held = await t.dataSource.query(`SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
        WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.objid = $1`, [ORPHAN_SWEEP_LOCK]);
    expect(held).toEqual([]);
  });

  it('finds the references of a batch through the storage_key index, not by reading every document', async () => {
    // One transaction, so the setting and the EXPLAIN share a connection.
    const plan = await t.dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL enable_seqscan = off`);
      return (await tx.query(`EXPLAIN ${REFERENCED_KEYS_SQL}`, [['documents/ab/abc']])) as { 'QUERY PLAN': string }[];
    });
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index (Only )?Scan using application_documents_storage_key/);
  });

  it('runs in the worker role only', async () => {
    const api = await startTestApp({ APP_ROLE: 'api', UPLOAD_DIR: uploadRoot });
    try {
      expect(() => api.app.get(OrphanSweeperService)).toThrow();
    } finally {
      await api.close();
    }
  });
});
