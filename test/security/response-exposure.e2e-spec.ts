import { ROLES, Role } from 'src/common/auth/roles';
import { GUARDIAN_NATIONAL_ID, PATIENT_NATIONAL_ID } from 'test/support/application-factory';
import { PASSWORD, SignedIn, uniqueEmail } from 'test/support/factories';
import { allowedRoles, fetchOpenApi, fillPath, isPublic, Operation, operationsOf, withRequiredQuery } from 'test/support/openapi-routes';
import { writeSecurityFigure } from 'test/support/security-report';
import { pathValuesFor, securityWorld, SecurityWorld } from 'test/support/security-world';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';

/** Keys no response may carry, whoever asks: credentials, their hashes, ciphertexts, internal token state. */
const FORBIDDEN_KEY = /password|secret|(^|_)hash$|hash_|[a-z]Hash$|Enc$|_enc$|encrypted|cipher|tokenVersion|token_version|^salt$|^iv$|authTag/i;
/** Keys that carry a token: only the routes that hand tokens out may use them. */
const TOKEN_KEY = /^(accessToken|refreshToken|token)$/;
const TOKEN_ROUTES = new Set([`POST ${API}/auth/login`, `POST ${API}/auth/refresh`]);
/** Values that must never leave the server: argon2 hashes, PEM keys, AES-GCM envelopes of the field cipher. */
const FORBIDDEN_VALUE = /^\$argon2|-----BEGIN [A-Z ]*PRIVATE KEY|^v\d+\.[A-Za-z0-9_-]{12,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]+$/;
const JWT_VALUE = /^eyJ[\w-]+\.eyJ[\w-]+\./;

type Finding = string;

/** Walks a JSON value and reports every key path that breaks a rule. */
function walk(value: unknown, path: string, visit: (key: string, value: unknown, path: string) => void): void {
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, visit));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      visit(k, v, `${path}.${k}`);
      walk(v, `${path}.${k}`, visit);
    }
  } else visit('', value, path);
}

describe('Response exposure: key allowlist and other users’ data (generated from /docs-json)', () => {
  let t: TestApp;
  let w: SecurityWorld;
  let ops: Operation[];
  const seen: { route: string; role: Role | 'anonymous'; status: number; body: unknown }[] = [];

  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '100000' });
    await t.reset();
    w = await securityWorld(t);
    ops = operationsOf(await fetchOpenApi(t));

    // Every readable route, as every role allowed to read it, pointed at that role's own (side a) objects.
    for (const op of ops.filter((o) => o.method === 'get')) {
      const callers: (Role | 'anonymous')[] = isPublic(op.access) ? ['anonymous'] : allowedRoles(op.access);
      for (const role of callers) {
        const who: SignedIn | null = role === 'anonymous' ? null : w.byRole[role];
        const url = withRequiredQuery(op, fillPath(op.path, pathValuesFor(op.path, w.a, w), w.a.hospital.id), w.a.hospital.id);
        let req = t.http.get(url);
        if (who) req = req.set(who.auth);
        const res = await req;
        seen.push({ route: op.key, role, status: res.status, body: res.body });
      }
    }
    // And the writes that answer with a user or a token.
    const email = uniqueEmail('fam');
    const reg = await t.http.post(`${API}/auth/register`).send({ email, password: PASSWORD, fullName: 'X' });
    seen.push({ route: `POST ${API}/auth/register`, role: 'anonymous', status: reg.status, body: reg.body });
    const session = await t.http.post(`${API}/auth/login`).send({ email, password: PASSWORD });
    seen.push({ route: `POST ${API}/auth/login`, role: 'anonymous', status: session.status, body: session.body });
    const refreshed = await t.http.post(`${API}/auth/refresh`).send({ refreshToken: session.body.refreshToken });
    seen.push({ route: `POST ${API}/auth/refresh`, role: 'anonymous', status: refreshed.status, body: refreshed.body });
    const created = await t.http.post(`${API}/users`).set(w.admin.auth).send({ email: uniqueEmail('rev'), fullName: 'R', role: 'reviewer', password: PASSWORD });
    seen.push({ route: `POST ${API}/users`, role: 'admin', status: created.status, body: created.body });
    const wrong = await t.http.post(`${API}/auth/login`).send({ email, password: 'wrong password!' });
    seen.push({ route: `POST ${API}/auth/login`, role: 'anonymous', status: wrong.status, body: wrong.body });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('read every GET route as every allowed role, with real objects (most answer 200)', () => {
    const gets = seen.filter((s) => s.route.startsWith('GET '));
    const ok = gets.filter((s) => s.status === 200).length;
    writeSecurityFigure('response-exposure', { responses: seen.length, getResponses: gets.length, ok200: ok, statuses: gets.map((s) => `${s.status} ${s.route} as ${s.role}`) });
    expect(gets.filter((s) => s.status >= 500)).toEqual([]);
    expect(ok / gets.length).toBeGreaterThan(0.9);
  });

  it('no response carries a password, a hash, a ciphertext or token state; tokens only from login/refresh', () => {
    const findings: Finding[] = [];
    for (const s of seen) {
      walk(s.body, '$', (key, value, path) => {
        if (key && FORBIDDEN_KEY.test(key)) findings.push(`${s.route} as ${s.role}: key ${path}`);
        if (key && TOKEN_KEY.test(key) && !TOKEN_ROUTES.has(s.route)) findings.push(`${s.route} as ${s.role}: token key ${path}`);
        if (typeof value === 'string' && FORBIDDEN_VALUE.test(value)) findings.push(`${s.route} as ${s.role}: value at ${path}`);
        if (typeof value === 'string' && JWT_VALUE.test(value) && !TOKEN_ROUTES.has(s.route)) findings.push(`${s.route} as ${s.role}: JWT at ${path}`);
      });
    }
    expect(findings).toEqual([]);
  });

  it('no stored hash, ciphertext or secret column value appears in any response', async () => {
    const columns = (await t.dataSource.query(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name ~ '(hash|_enc$|encrypted|secret|cipher)' AND data_type IN ('text', 'character varying', 'bytea')`,
    )) as { table_name: string; column_name: string }[];
    expect(columns.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(expect.arrayContaining(['users.password_hash']));
    const stored = new Set<string>();
    for (const { table_name, column_name } of columns) {
      const rows = (await t.dataSource.query(`SELECT DISTINCT "${column_name}"::text AS v FROM "${table_name}" WHERE "${column_name}" IS NOT NULL`)) as { v: string }[];
      for (const { v } of rows) if (v.length >= 16) stored.add(v.startsWith('\\x') ? v.slice(2) : v);
    }
    expect(stored.size).toBeGreaterThan(5);
    const text = JSON.stringify(seen.map((s) => s.body));
    const leaked = [...stored].filter((v) => text.includes(v));
    expect({ columns: columns.length, leaked }).toEqual({ columns: columns.length, leaked: [] });
  });

  it("a family's responses never mention the other family, its application, documents, tranche or hospital finance", () => {
    const foreign = [w.b.family.id, w.b.family.email, w.b.applicationId, w.b.documentId, w.b.disbursementId, w.b.hospitalFinance.email, w.b.hospitalFinance.id, w.b.statementId];
    const findings: Finding[] = [];
    for (const s of seen.filter((x) => x.role === 'applicant')) {
      walk(s.body, '$', (key, value, path) => {
        if (typeof value === 'string' && foreign.some((f) => value.includes(f))) findings.push(`${s.route}: ${path} = ${value}`);
      });
    }
    expect(findings).toEqual([]);
    // The positive control: the family's own objects are there.
    expect(JSON.stringify(seen.filter((x) => x.role === 'applicant').map((x) => x.body))).toContain(w.a.applicationId);
  });

  it('hospital finance sees what payouts need, never national ids, medical or household detail, nor the other hospital', () => {
    // (Hospitals themselves are readable by every signed-in user: their ids are not secret.)
    const secrets = [PATIENT_NATIONAL_ID, GUARDIAN_NATIONAL_ID, 'acquired_aplastic_anemia', 'D61.9', w.b.applicationId, w.b.disbursementId, w.b.statementId];
    const sections = /^(patient|guardian|household|medical|consents|assessment|documents|nationalId|diagnosis|icd10|annualIncome|liquidAssets)$/;
    const findings: Finding[] = [];
    const mine = seen.filter((x) => x.role === 'hospital_finance');
    for (const s of mine) {
      walk(s.body, '$', (key, value, path) => {
        // The patient's name is what hospital finance matches payouts by; nothing else of the sections.
        const nameOnly = key === 'patient' && value && typeof value === 'object' && Object.keys(value).every((k) => k === 'fullName');
        if (key && sections.test(key) && value !== null && !nameOnly && !(Array.isArray(value) && value.length === 0)) findings.push(`${s.route}: key ${path} = ${JSON.stringify(value)}`);
        if (typeof value === 'string' && secrets.some((f) => value.includes(f))) findings.push(`${s.route}: ${path} = ${value}`);
      });
    }
    expect(findings).toEqual([]);
    expect(JSON.stringify(mine.map((x) => x.body))).toContain(w.a.disbursementId);
  });

  it('errors are bare problem+json: no stack, no SQL, no internal paths', async () => {
    const errors = seen.filter((s) => s.status >= 400);
    const samples = [
      ...errors.map((e) => e.body),
      (await t.http.get(`${API}/applications/not-a-uuid`).set(w.a.family.auth)).body,
      (await t.http.post(`${API}/auth/login`).set('Content-Type', 'application/json').send('{"email": "x", ')).body,
      (await t.http.get(`${API}/applications?limit=1000&cursor=%27%3B%20DROP%20TABLE%20users%3B--`).set(w.a.family.auth)).body,
    ];
    for (const body of samples) {
      const text = JSON.stringify(body);
      expect(text).not.toMatch(/\bat \S+ \(|node_modules|\/src\/|\.ts:\d+|SELECT |INSERT |UPDATE |duplicate key|violates|QueryFailedError|TypeORM/i);
      expect(Object.keys(body as object).every((k) => ['type', 'title', 'status', 'detail', 'errors', 'instance', 'retryAfter', 'missing', 'current', 'statusNow'].includes(k) || !/stack|sql|query|trace/i.test(k))).toBe(true);
    }
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM users`);
    expect(n).toBeGreaterThan(0);
  });

  it('every role is exercised', () => {
    for (const role of ROLES) expect(seen.some((s) => s.role === role && s.status === 200)).toBe(true);
  });
});
