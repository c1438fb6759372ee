import { randomUUID } from 'node:crypto';
import { DEFAULT_MEANS_POLICY } from 'src/assessment/means-policy';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { applicationBody, createDraftApplication, createSubmittedApplication } from 'test/support/application-factory';
import { hospitalBody, PASSWORD, signedInUser, SignedIn, uniqueEmail } from 'test/support/factories';
import { approvedGrant } from 'test/support/grant-factory';
import { allowedRoles, fetchOpenApi, fillPath, isPublic, OpenApiDocument, Operation, operationsOf, resolve, Schema } from 'test/support/openapi-routes';
import { writeSecurityFigure } from 'test/support/security-report';
import { pathValuesFor, securityWorld, SecurityWorld, tableDigests } from 'test/support/security-world';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';

/** What an attacker would like to set on a create or update: the server's to decide, never the client's. */
const EXTRAS = (w: SecurityWorld): Record<string, unknown> => ({
  status: 'approved',
  amount: 999_999_999,
  role: 'admin',
  applicantId: w.b.family.id,
  hospitalId: w.b.hospital.id,
  version: 99,
  id: randomUUID(),
  reference: 'SPR-2026-999999',
  emailVerified: true,
  tokenVersion: 0,
  passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$x$y',
  createdAt: '2020-01-01T00:00:00Z',
  reviewerId: w.reviewer.id,
});

const changedTables = (before: Record<string, string>, after: Record<string, string>) => Object.keys(after).filter((k) => after[k] !== before[k]);

describe('Mass assignment (generated from /docs-json)', () => {
  let t: TestApp;
  let w: SecurityWorld;
  let doc: OpenApiDocument;
  let ops: Operation[];

  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '100000' });
    await t.reset();
    w = await securityWorld(t);
    doc = await fetchOpenApi(t);
    ops = operationsOf(doc);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const callerFor = (op: Operation): SignedIn | null => (isPublic(op.access) ? null : w.byRole[allowedRoles(op.access)[0]]);

  /** Object-valued properties (one level down) where extras can hide too: `patient.status`, `bankAccount.role`. */
  function nestedObjects(schema: Schema): string[] {
    return Object.entries(schema.properties ?? {})
      .filter(([, s]) => resolve(doc, s).properties)
      .map(([name]) => name);
  }

  it('every JSON create/update body: each extra field (top level and nested) → 400 naming it, nothing written', async () => {
    const extras = EXTRAS(w);
    const failures: string[] = [];
    const covered: Record<string, number> = {};
    const bodyOps = ops.filter((op) => op.jsonBody);
    for (const op of bodyOps) {
      const schema = op.jsonBody!;
      const who = callerFor(op);
      const url = fillPath(op.path, pathValuesFor(op.path, w.a, w), randomUUID());
      const targets: { prefix: string[]; props: Set<string> }[] = [{ prefix: [], props: new Set(Object.keys(schema.properties ?? {})) }];
      for (const name of nestedObjects(schema)) targets.push({ prefix: [name], props: new Set(Object.keys(resolve(doc, schema.properties![name]).properties ?? {})) });
      covered[op.key] = 0;
      for (const target of targets) {
        for (const [field, value] of Object.entries(extras)) {
          if (target.props.has(field)) continue; // a real field of this body, not an extra
          const body: Record<string, unknown> = target.prefix.length ? { [target.prefix[0]]: { [field]: value } } : { [field]: value };
          const before = await tableDigests(t);
          let req = t.http[op.method](url);
          if (who) req = req.set(who.auth);
          const res = await req.send(body);
          covered[op.key]++;
          const name = [...target.prefix, field].join('.');
          const named = Array.isArray(res.body?.errors) && res.body.errors.some((e: { field: string; message: string }) => e.field === name && /not an accepted field/.test(e.message));
          if (res.status !== 400 || !named) failures.push(`${op.key} with ${name}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
          const changed = changedTables(before, await tableDigests(t));
          if (changed.length) failures.push(`${op.key} with ${name} changed ${changed.join(', ')}`);
        }
      }
    }
    const requests = Object.values(covered).reduce((a, b) => a + b, 0);
    writeSecurityFigure('mass-assignment', { operations: bodyOps.length, requests, perOperation: covered });
    process.stdout.write(`mass assignment: ${bodyOps.length} JSON bodies, ${requests} requests with an extra field, all 400\n`);
    expect(failures).toEqual([]);
    expect(bodyOps.length).toBeGreaterThan(20);
  }, 120_000);

  describe('with a body that is otherwise valid (the same body without the extras succeeds)', () => {
    type Case = { name: string; who: () => SignedIn | null; method: 'post' | 'patch' | 'put'; url: string | (() => Promise<string> | string); body: () => Promise<Record<string, unknown>> | Record<string, unknown>; extras: string[]; headers?: () => Record<string, string> };
    const today = () => todayIn(FUND_TIME_ZONE);
    const cases: Case[] = [
      { name: 'register', who: () => null, method: 'post', url: `${API}/auth/register`, body: () => ({ email: uniqueEmail('fam'), password: PASSWORD, fullName: 'X' }), extras: ['role', 'emailVerified', 'id', 'hospitalId'] },
      { name: 'create user', who: () => w.admin, method: 'post', url: `${API}/users`, body: () => ({ email: uniqueEmail('rev'), fullName: 'R', role: 'reviewer', password: PASSWORD }), extras: ['emailVerified', 'id', 'tokenVersion', 'passwordHash'] },
      { name: 'update user', who: () => w.admin, method: 'patch', url: () => `${API}/users/${w.reviewer.id}`, body: () => ({ fullName: 'Renamed' }), extras: ['emailVerified', 'email', 'passwordHash', 'tokenVersion', 'version'] },
      { name: 'create hospital', who: () => w.admin, method: 'post', url: `${API}/hospitals`, body: () => hospitalBody(), extras: ['id', 'status', 'createdAt'] },
      { name: 'update hospital', who: () => w.admin, method: 'patch', url: () => `${API}/hospitals/${w.b.hospital.id}`, body: () => ({ name: 'Renamed hospital' }), extras: ['id', 'version'] },
      {
        name: 'contribution',
        who: () => w.finance,
        method: 'post',
        url: `${API}/fund/contributions`,
        body: () => ({ amount: 1000, donorName: 'D', receivedOn: today(), reference: `R-${randomUUID().slice(0, 8)}` }),
        extras: ['status', 'id', 'account', 'applicantId'],
      },
      { name: 'create application', who: () => w.a.family, method: 'post', url: `${API}/applications`, body: () => applicationBody(w.a.hospital.id) as Record<string, unknown>, extras: ['status', 'applicantId', 'reference', 'version', 'id', 'amount'] },
      {
        name: 'update application',
        who: () => w.a.family,
        method: 'patch',
        url: async () => `${API}/applications/${(await createDraftApplication(t, w.a.family, w.a.hospital.id)).id}`,
        body: () => ({ household: { size: 5 } }),
        extras: ['status', 'applicantId', 'reference', 'version', 'id', 'amount'],
      },
      {
        name: 'approve',
        who: () => w.reviewer,
        method: 'post',
        url: async () => {
          const app = await createSubmittedApplication(t, w.a.family, w.a.hospital.id);
          await t.http.post(`${API}/applications/${app.id}/start-review`).set(w.reviewer.auth).send({}).expect(200);
          return `${API}/applications/${app.id}/approve`;
        },
        body: () => ({ amount: 100_000 }),
        extras: ['status', 'reviewerId', 'applicantId', 'version'],
      },
      {
        name: 'pay a tranche',
        who: () => w.finance,
        method: 'post',
        url: async () => {
          const grant = await approvedGrant(t, { family: w.a.family, reviewer: w.reviewer, hospital: w.a.hospital }, { amount: 300_000 });
          const list = await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(w.finance.auth).expect(200);
          return `${API}/disbursements/${list.body.items[0].id}/pay`;
        },
        body: () => ({ paidOn: today(), bankReference: `TRF-${randomUUID().slice(0, 6)}` }),
        extras: ['amount', 'status', 'reference', 'hospitalId'],
        headers: () => ({ 'Idempotency-Key': randomUUID() }),
      },
      { name: 'reviewer conflict', who: () => w.admin, method: 'post', url: () => `${API}/users/${w.reviewer.id}/conflicts`, body: () => ({ applicantId: w.b.family.id }), extras: ['id', 'status'] },
      { name: 'means policy', who: () => w.admin, method: 'put', url: `${API}/policies/means-assessment`, body: () => JSON.parse(JSON.stringify(DEFAULT_MEANS_POLICY)), extras: ['version', 'id', 'status'] },
    ];

    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const all = EXTRAS(w);
      const url = typeof c.url === 'string' ? c.url : await c.url();
      const body = await c.body();
      for (const extra of c.extras) {
        const before = await tableDigests(t);
        let req = t.http[c.method](url).set({ ...(c.headers?.() ?? {}) });
        const who = c.who();
        if (who) req = req.set(who.auth);
        const res = await req.send({ ...body, [extra]: extra in all ? all[extra] : 'x' });
        expect({ extra, status: res.status, errors: res.body.errors }).toEqual({ extra, status: 400, errors: [{ field: extra, message: 'is not an accepted field' }] });
        expect(changedTables(before, await tableDigests(t))).toEqual([]);
      }
      let req = t.http[c.method](url).set({ ...(c.headers?.() ?? {}) });
      const who = c.who();
      if (who) req = req.set(who.auth);
      const ok = await req.send(body);
      expect({ status: ok.status, body: ok.status < 300 ? 'ok' : ok.body }).toEqual({ status: expect.any(Number), body: 'ok' });
    });
  });

  it('nested extras in an application are refused too, and a family cannot move its draft to a status by PATCH', async () => {
    const draft = await createDraftApplication(t, w.a.family, w.a.hospital.id);
    const before = await tableDigests(t);
    for (const section of ['patient', 'guardian', 'household', 'medical', 'consents']) {
      const res = await t.http.patch(`${API}/applications/${draft.id}`).set(w.a.family.auth).send({ [section]: { status: 'approved', applicantId: w.b.family.id } });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([`${section}.applicantId`, `${section}.status`]);
    }
    expect(changedTables(before, await tableDigests(t))).toEqual([]);
    const [row] = await t.dataSource.query(`SELECT status, applicant_id, version FROM applications WHERE id = $1`, [draft.id]);
    expect(row).toEqual({ status: 'draft', applicant_id: w.a.family.id, version: draft.version });
  });

  it('a hospital_finance user cannot be moved to another hospital by itself, and an applicant cannot make itself admin', async () => {
    // No self-service profile update exists; the only writes to a user go through admin routes (matrix: 403 for others).
    for (const who of [w.a.family, w.a.hospitalFinance]) {
      const res = await t.http.patch(`${API}/users/${who.id}`).set(who.auth).send({ role: 'admin', hospitalId: w.b.hospital.id });
      expect(res.status).toBe(403);
    }
    const rows = await t.dataSource.query(`SELECT role, hospital_id FROM users WHERE id = ANY($1) ORDER BY role`, [[w.a.family.id, w.a.hospitalFinance.id]]);
    expect(rows).toEqual([
      { role: 'applicant', hospital_id: null },
      { role: 'hospital_finance', hospital_id: w.a.hospital.id },
    ]);
  });

  it('registration cannot choose a role or a verified email', async () => {
    const reg = await t.http.post(`${API}/auth/register`).send({ email: uniqueEmail('x'), password: PASSWORD, fullName: 'X', role: 'admin', emailVerified: true });
    expect(reg.status).toBe(400);
    const user = await signedInUser(t, 'applicant');
    const me = await t.http.get(`${API}/me`).set(user.auth).expect(200);
    expect(me.body.role).toBe('applicant');
  });
});
