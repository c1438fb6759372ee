import { randomUUID } from 'node:crypto';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { ROLES, Role } from 'src/common/auth/roles';
import { ACCESS_KEY } from 'src/common/auth/access.decorators';
import { createSubmittedApplication, files, OTHER_PATIENT_NATIONAL_ID } from 'test/support/application-factory';
import { login, SignedIn, signedInUser } from 'test/support/factories';
import { allowedRoles, fetchOpenApi, fillPath, isPublic, Operation, operationsOf, withRequiredQuery } from 'test/support/openapi-routes';
import { writeSecurityFigure } from 'test/support/security-report';
import { pathValuesFor, securityWorld, SecurityWorld, Side, tableDigests } from 'test/support/security-world';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
type Caller = Role | 'anonymous';
const CALLERS: Caller[] = ['anonymous', ...ROLES];
const MADE_UP = randomUUID();

/**
 * Every route of the live OpenAPI document × every role and anonymous, from the `x-access` extension the access
 * decorators write; then every scoped route with the other family's / other hospital's real object ids.
 */
describe('Authorization matrix (generated from /docs-json)', () => {
  let t: TestApp;
  let w: SecurityWorld;
  let ops: Operation[];

  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '100000' });
    await t.reset();
    w = await securityWorld(t);
    ops = operationsOf(await fetchOpenApi(t));
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  /** A fresh session for routes that end it (logout), so the shared tokens stay valid. */
  async function tokenFor(caller: Caller, op: Operation): Promise<SignedIn | null> {
    if (caller === 'anonymous') return null;
    const user = w.byRole[caller];
    if (op.path.endsWith('/auth/logout')) return { ...user, ...(await login(t, user.email)) };
    return user;
  }

  function send(op: Operation, url: string, who: SignedIn | null, body?: object) {
    let req = t.http[op.method](url);
    if (who) req = req.set(who.auth);
    if (op.multipart) return req.field('type', 'other').attach('file', files.pdf(), { filename: 'x.pdf', contentType: 'application/pdf' });
    if (op.jsonBody || body) return req.send(body ?? {});
    return req.send();
  }

  it('documents every route the router serves (nothing hidden from the matrix), each with exactly one access rule', () => {
    const served = new Set<string>();
    const scanner = new MetadataScanner();
    for (const module of t.app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const type = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
        if (!type) continue;
        const base = String(Reflect.getMetadata(PATH_METADATA, type) ?? '');
        for (const name of scanner.getAllMethodNames(type.prototype)) {
          const handler = (type.prototype as Record<string, unknown>)[name] as object;
          const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
          if (method === undefined) continue;
          const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
          const joined = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/').replace(/:(\w+)/g, '{$1}');
          const full = joined.startsWith('/health') ? joined : `${API}${joined === '/' ? '' : joined}`;
          served.add(`${RequestMethod[method]} ${full}`);
          const access = Reflect.getMetadata(ACCESS_KEY, handler) ?? Reflect.getMetadata(ACCESS_KEY, type);
          expect({ route: `${RequestMethod[method]} ${full}`, declared: Boolean(access) }).toEqual({ route: `${RequestMethod[method]} ${full}`, declared: true });
        }
      }
    }
    const documented = new Set(ops.map((o) => o.key));
    expect([...served].filter((r) => !documented.has(r)).sort()).toEqual([]);
    expect([...documented].filter((r) => !served.has(r)).sort()).toEqual([]);
    expect(ops.length).toBeGreaterThan(40);
  });

  it('every route × every role and anonymous: 401 without a token, 403 for a role not allowed, never 401/403/5xx for an allowed one', async () => {
    const failures: string[] = [];
    const grid: Record<string, Record<Caller, number>> = {};
    let cells = 0;
    for (const op of ops) {
      const url = withRequiredQuery(op, fillPath(op.path, {}, MADE_UP), MADE_UP);
      grid[op.key] = {} as Record<Caller, number>;
      for (const caller of CALLERS) {
        const who = await tokenFor(caller, op);
        const res = await send(op, url, who);
        grid[op.key][caller] = res.status;
        cells++;
        const allowed = caller === 'anonymous' ? isPublic(op.access) : allowedRoles(op.access).includes(caller);
        const problem = /application\/problem\+json/.test(res.headers['content-type'] ?? '');
        const fail = (why: string) => failures.push(`${op.key} as ${caller}: ${res.status} ${why} ${JSON.stringify(res.body).slice(0, 200)}`);
        if (res.status >= 500) fail('server error');
        else if (!allowed && caller === 'anonymous') {
          if (res.status !== 401 || !problem || res.headers['www-authenticate'] !== 'Bearer') fail('expected 401 problem+json with WWW-Authenticate');
        } else if (!allowed) {
          if (res.status !== 403 || !problem || !String(res.body.type).endsWith('/role-not-allowed')) fail('expected 403 role-not-allowed');
        } else if (res.status === 401 || (res.status === 403 && String(res.body.type).endsWith('/role-not-allowed'))) {
          fail('allowed caller refused');
        } else if (res.status >= 400 && !problem) fail('error without problem+json');
      }
    }
    const routes = ops.length;
    const figure = { routes, callers: CALLERS.length, cells, covered: cells, coverage: `${((100 * cells) / (routes * CALLERS.length)).toFixed(1)}%` };
    writeSecurityFigure('authorization-matrix', { ...figure, grid });
    process.stdout.write(`authorization matrix: ${routes} routes × ${CALLERS.length} callers (5 roles + anonymous) = ${cells} cells, coverage ${figure.coverage}\n`);
    expect(failures).toEqual([]);
    expect(cells).toBe(routes * CALLERS.length);
  }, 120_000);

  /** Bodies that pass validation, so the request reaches the lookup and the 404 is the scope talking, not the validator. */
  function validBody(op: Operation, target: Side): object | undefined {
    switch (op.key) {
      case `PATCH ${API}/applications/{id}`:
        return { household: { size: 5 } };
      case `POST ${API}/reconciliation/entries/{id}/match`:
        return { disbursementId: target.disbursementId };
      case `POST ${API}/reconciliation/entries/{id}/resolve`:
        return { note: 'A bank fee; nothing to reconcile.' };
      case `POST ${API}/applications/{id}/request-info`:
        return { message: 'Please upload the income proof again.' };
      case `POST ${API}/applications/{id}/approve`:
        return { amount: 100_000 };
      case `POST ${API}/applications/{id}/reject`:
      case `POST ${API}/applications/{id}/cancel`:
      case `POST ${API}/disbursements/{id}/cancel`:
        return { reason: 'test' };
      default:
        return op.jsonBody ? {} : undefined;
    }
  }

  async function scopedSweep(caller: SignedIn, role: Role, own: Side, other: Side, scoped: (op: Operation) => boolean) {
    const failures: string[] = [];
    let checked = 0;
    const candidates = ops.filter((op) => allowedRoles(op.access).includes(role) && op.pathParams.length > 0 && scoped(op));
    for (const op of candidates) {
      const before = op.method === 'get' ? null : await tableDigests(t);
      const url = withRequiredQuery(op, fillPath(op.path, pathValuesFor(op.path, other, w), MADE_UP), MADE_UP);
      const res = await send(op, url, caller, validBody(op, other));
      checked++;
      if (res.status !== 404) failures.push(`${op.key} with ${role === 'applicant' ? "another family's" : "another hospital's"} ids: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      if (before) {
        const after = await tableDigests(t);
        const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
        if (changed.length) failures.push(`${op.key} changed ${changed.join(', ')}`);
      }
      if (op.method === 'get') {
        // The same route with the caller's own object answers: the 404 above is the scope, not a bad path.
        const mine = await send(op, withRequiredQuery(op, fillPath(op.path, pathValuesFor(op.path, own, w), MADE_UP), MADE_UP), caller);
        if (mine.status !== 200) failures.push(`${op.key} with own ids: ${mine.status} ${JSON.stringify(mine.body).slice(0, 200)}`);
      }
    }
    return { failures, checked, candidates: candidates.map((o) => o.key) };
  }

  it("another family's application id → 404 on every /applications/{id}… route a family may call, document download included; nothing changes", async () => {
    const { failures, checked, candidates } = await scopedSweep(w.b.family, 'applicant', w.b, w.a, (op) => op.path.startsWith(`${API}/applications/{id}`));
    expect(candidates).toEqual(expect.arrayContaining([`GET ${API}/applications/{id}`, `GET ${API}/applications/{id}/documents/{docId}/content`, `PATCH ${API}/applications/{id}`]));
    writeSecurityFigure('scoped-family', { checked, routes: candidates });
    expect(failures).toEqual([]);

    // Lists: the other family's application is in none of them.
    const list = await t.http.get(`${API}/applications?limit=100`).set(w.b.family.auth).expect(200);
    expect(list.body.items.map((i: { id: string }) => i.id)).toEqual([w.b.applicationId]);
    // And its documents cannot be fetched under the family's own application id either.
    await t.http.get(`${API}/applications/${w.b.applicationId}/documents/${w.a.documentId}/content`).set(w.b.family.auth).expect(404);
  });

  it("hospital_finance of another hospital → 404 on the other hospital's applications, disbursements, statements and entries", async () => {
    const resources = [`${API}/applications/{id}`, `${API}/disbursements/{id}`, `${API}/reconciliation/statements/{id}`, `${API}/reconciliation/entries/{id}`];
    const { failures, checked, candidates } = await scopedSweep(w.b.hospitalFinance, 'hospital_finance', w.b, w.a, (op) =>
      resources.some((r) => op.path.startsWith(r)),
    );
    expect(candidates).toEqual(
      expect.arrayContaining([`GET ${API}/applications/{id}`, `GET ${API}/disbursements/{id}`, `GET ${API}/reconciliation/statements/{id}`, `POST ${API}/reconciliation/entries/{id}/match`]),
    );
    writeSecurityFigure('scoped-hospital-finance', { checked, routes: candidates });
    expect(failures).toEqual([]);

    const ids = async (path: string) => ((await t.http.get(`${API}${path}`).set(w.b.hospitalFinance.auth).expect(200)).body.items as { id: string }[]).map((i) => i.id);
    expect(await ids('/applications?limit=100')).toEqual([w.b.applicationId]);
    // An application of its hospital without a grant (submitted, or later refused) is not the finance office's to see:
    // that a named child's family applied for aid needs no payout.
    const applying = await createSubmittedApplication(t, await signedInUser(t, 'applicant'), w.b.hospital.id, { patient: { nationalId: OTHER_PATIENT_NATIONAL_ID, dateOfBirth: '2018-03-07' } });
    expect(await ids('/applications?limit=100')).toEqual([w.b.applicationId]);
    await t.http.get(`${API}/applications/${applying.id}`).set(w.b.hospitalFinance.auth).expect(404);
    await t.http.get(`${API}/applications/${w.b.applicationId}`).set(w.b.hospitalFinance.auth).expect(200);
    expect(await ids('/disbursements?limit=100')).toEqual([w.b.disbursementId]);
    // Naming the other hospital in the filter is refused outright.
    const named = await t.http.get(`${API}/disbursements?hospitalId=${w.a.hospital.id}&limit=100`).set(w.b.hospitalFinance.auth);
    expect(named.status === 403 || (named.status === 200 && named.body.items.length === 0)).toBe(true);
    expect(await ids('/reconciliation/statements?limit=100')).toEqual([w.b.statementId]);
    // Its own entry cannot be matched to the other hospital's disbursement either.
    const cross = await t.http.post(`${API}/reconciliation/entries/${w.b.entryId}/unmatch`).set(w.b.hospitalFinance.auth).send();
    expect(cross.status).toBeLessThan(500);
    const match = await t.http.post(`${API}/reconciliation/entries/${w.b.entryId}/match`).set(w.b.hospitalFinance.auth).send({ disbursementId: w.a.disbursementId });
    expect([404, 409, 422]).toContain(match.status);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM statement_entries WHERE disbursement_id = $1`, [w.a.disbursementId]);
    expect(n).toBe(1);
  });
});
