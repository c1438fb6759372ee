import { applicationWorld, createDraftApplication, downloadDocument, uploadDocument } from 'test/support/application-factory';
import { PASSWORD } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';

/** Tokens (RFC 6749 §5.1) and national ids must not stay in a browser's or a shared proxy's cache. */
describe('Cache-Control on API answers (e2e)', () => {
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

  it('answers sign-in and refresh (tokens) and an application read (national ids) with no-store', async () => {
    const { hospital, family } = await applicationWorld(t);
    const signIn = await t.http.post(`${API}/auth/login`).send({ email: family.email, password: PASSWORD }).expect(200);
    expect(signIn.headers['cache-control']).toBe('no-store');
    const refreshed = await t.http.post(`${API}/auth/refresh`).send({ refreshToken: signIn.body.refreshToken }).expect(200);
    expect(refreshed.headers['cache-control']).toBe('no-store');

    const draft = await createDraftApplication(t, family, hospital.id);
    const read = await t.http.get(`${API}/applications/${draft.id}`).set(family.auth).expect(200);
    expect(read.body.patient.nationalId).toEqual(expect.any(String));
    expect(read.headers['cache-control']).toBe('no-store');

    const refused = await t.http.get(`${API}/applications/${draft.id}`);
    expect(refused.status).toBe(401);
    expect(refused.headers['cache-control']).toBe('no-store');
  });

  it('leaves alone a download that sets its own, and answers outside /api/v1', async () => {
    const { hospital, family } = await applicationWorld(t);
    const draft = await createDraftApplication(t, family, hospital.id);
    const uploaded = await uploadDocument(t, family, draft.id, 'income_proof');
    expect(uploaded.status).toBe(201);
    const download = await downloadDocument(t, family, draft.id, uploaded.body.id).expect(200);
    expect(download.headers['cache-control']).toBe('private, no-store');

    const live = await t.http.get('/health/live').expect(200);
    expect(live.headers['cache-control']).toBeUndefined();
  });
});
