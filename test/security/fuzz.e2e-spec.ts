import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Response } from 'supertest';
import { createDraftApplication } from 'test/support/application-factory';
import { signedInUser, SignedIn } from 'test/support/factories';
import { allowedRoles, fetchOpenApi, fillPath, isPublic, OpenApiDocument, Operation, operationsOf, resolve, Schema, withRequiredQuery } from 'test/support/openapi-routes';
import { writeSecurityFigure } from 'test/support/security-report';
import { pathValuesFor, securityWorld, SecurityWorld, tableDigests } from 'test/support/security-world';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
/** Per operation and generator; the whole file stays around a minute on two cores. Raise locally with FUZZ_RUNS. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
/**
 * A fixed seed by default, so that `npm test` and CI are reproducible; `FUZZ_SEED=random` explores (the seed is printed
 * for replay). Exploring found the half-surrogate and NUL defects; keep exploring when touching validation.
 */
const SEED = process.env.FUZZ_SEED === 'random' ? Date.now() % 2_147_483_647 : Number(process.env.FUZZ_SEED ?? 20_261_122);

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '../../../etc/passwd',
    '..\\..\\windows\\win.ini',
    '%00',
    '\u202Egnp.exe',
    '\uFEFF',
    '\uD800',
    '😀'.repeat(300),
    "' OR 1=1 --",
    '<script>alert(1)</script>',
    '{{7*7}}',
    '=HYPERLINK("http://x")',
    'NaN',
    'Infinity',
    '-1',
    '9223372036854775808',
    '2026-02-30',
    '0000-00-00',
    '00000000-0000-0000-0000-000000000000',
    'x'.repeat(70_000),
  ),
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, -0, 1, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 2 ** 64, 1e308, -1e308, 0.1, 1.5, -100, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 5e-324),
);
const leaf = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null));
const { value: hostileValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 })),
}));

/** Raw bodies JSON.stringify cannot produce: bare NaN/Infinity tokens, 2^63 and beyond, deep nesting, duplicate and prototype keys. */
function rawBodies(schema: Schema): string[] {
  const props = Object.keys(schema.properties ?? {});
  const numeric = props.filter((p) => ['integer', 'number', 'object'].includes(resolveType(schema.properties![p])));
  const first = numeric[0] ?? props[0] ?? 'amount';
  const withValue = (token: string) => `{${props.filter((p) => p !== first).map((p) => `"${p}": "x"`).concat(`"${first}": ${token}`).join(', ')}}`;
  return [
    'NaN',
    'Infinity',
    '-Infinity',
    'null',
    '"string"',
    '42',
    '[]',
    '[{}]',
    '9223372036854775808',
    withValue('NaN'),
    withValue('Infinity'),
    withValue('-Infinity'),
    withValue('9223372036854775808'),
    withValue('-9223372036854775809'),
    withValue('18446744073709551616'),
    withValue('1e309'),
    withValue('-0'),
    withValue('0.1e1'),
    withValue('1.0000000000000001'),
    withValue('[1, 2]'),
    withValue('{"$gt": 0}'),
    `{"${first}": 1, "${first}": "x"}`,
    '{"__proto__": {"role": "admin", "status": "approved"}}',
    '{"constructor": {"prototype": {"role": "admin"}}}',
    '['.repeat(20_000) + ']'.repeat(20_000),
    '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000),
    `{"${first}": ${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
    '{"unterminated": "',
    '\uFEFF{}',
    '{}garbage',
    '',
  ];
}

function resolveType(s: Schema): string {
  return s.type ?? (s.$ref ? 'object' : 'unknown');
}

type Outcome = { op: string; body: string; status: number; problem: boolean; changed: string[] };

/**
 * Defects this suite found in code another engineer owns while it is being finished: reported, tolerated here only
 * as exactly this 500, and pinned by an `it.failing` below that turns red once the fix lands (then delete both).
 */
const KNOWN_DEFECTS: { op: string; body: RegExp }[] = [];
const isKnownDefect = (o: Outcome) => o.status === 500 && KNOWN_DEFECTS.some((d) => d.op === o.op && d.body.test(o.body));

/**
 * fast-check's rejection once a property failed: already recorded in `bad` (the failing outcome), or an exception the
 * probe threw (a reset connection, a hang-up), which must fail the test too rather than vanish.
 */
const unrecorded = (bad: string[], where: () => string) => {
  const before = bad.length;
  return (error: unknown) => {
    if (bad.length === before) bad.push(`${where()}: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`);
  };
};

describe('Input fuzzing of every JSON endpoint of /docs-json (fast-check)', () => {
  let t: TestApp;
  let w: SecurityWorld;
  let doc: OpenApiDocument;
  let ops: Operation[];
  let spare: SignedIn;
  let draftId: string;
  const outcomes: Outcome[] = [];
  let lastDigests: Record<string, string> | null = null;

  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '100000', LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000' });
    await t.reset();
    w = await securityWorld(t);
    spare = await signedInUser(t, 'reviewer');
    draftId = (await createDraftApplication(t, w.a.family, w.a.hospital.id)).id;
    doc = await fetchOpenApi(t);
    ops = operationsOf(doc);
    process.stdout.write(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} to replay), ${RUNS} runs per operation and generator\n`);
  }, 120_000);
  afterAll(async () => {
    writeSecurityFigure('fuzz', {
      seed: SEED,
      runsPerGenerator: RUNS,
      requests: outcomes.length,
      knownDefectHits: outcomes.filter(isKnownDefect).length,
      byStatus: outcomes.reduce<Record<number, number>>((acc, o) => ({ ...acc, [o.status]: (acc[o.status] ?? 0) + 1 }), {}),
      operations: [...new Set(outcomes.map((o) => o.op))].length,
    });
    process.stdout.write(`fuzz: ${outcomes.length} requests over ${[...new Set(outcomes.map((o) => o.op))].length} operations\n`);
    await t?.close();
  });

  const callerFor = (op: Operation): SignedIn | null => {
    if (isPublic(op.access)) return null;
    const roles = allowedRoles(op.access);
    return w.byRole[roles.includes('applicant') ? 'applicant' : roles.includes('admin') ? 'admin' : roles[0]];
  };
  const urlFor = (op: Operation): string => {
    const values = pathValuesFor(op.path, w.a, w);
    if (op.path === `${API}/applications/{id}`) values.id = draftId;
    if (op.path.startsWith(`${API}/users/{id}`)) values.id = spare.id; // never fuzz the admin's own account into disabled
    return withRequiredQuery(op, fillPath(op.path, values, randomUUID()), w.a.hospital.id);
  };

  /** Sends one hostile request and checks the response and the database. */
  async function probe(op: Operation, url: string, rawBody: string | undefined, contentType = 'application/json'): Promise<Outcome> {
    const started = Date.now();
    const before = lastDigests ?? (await tableDigests(t));
    let req = t.http[op.method](url);
    const who = callerFor(op);
    if (who) req = req.set(who.auth);
    const res: Response = rawBody === undefined ? await req.send() : await req.set('Content-Type', contentType).send(rawBody);
    const problem = /application\/problem\+json/.test(res.headers['content-type'] ?? '') && typeof res.body?.type === 'string' && res.body.status === res.status;
    const requestMs = Date.now() - started;
    const after = await tableDigests(t);
    lastDigests = after; // the next probe's "before": nothing else writes the guarded tables meanwhile
    const changed = res.status >= 400 ? Object.keys(after).filter((k) => after[k] !== before[k]) : [];
    const outcome = { op: op.key, body: (rawBody ?? '').slice(0, 300), status: res.status, problem, changed };
    if (process.env.FUZZ_VERBOSE) process.stdout.write(`${Date.now() - started} ms (request ${requestMs}) ${op.key} ${res.status} ${outcome.body.slice(0, 60)}\n`);
    outcomes.push(outcome);
    return outcome;
  }

  const acceptable = (o: Outcome) => isKnownDefect(o) || (o.status < 500 && (o.status < 400 || (o.problem && o.changed.length === 0)));
  const explain = (o: Outcome) => `${o.op} → ${o.status}${o.problem ? '' : ' (not problem+json)'}${o.changed.length ? ` changed ${o.changed.join(',')}` : ''} for ${o.body}`;

  const jsonOps = () => ops.filter((op) => op.jsonBody);

  it('schema-shaped bodies with hostile values (wrong types, huge and odd strings, NaN/±Infinity→null, ±2^63, nesting) → 4xx problem+json, nothing half-written', async () => {
    const bad: string[] = [];
    for (const op of jsonOps()) {
      const schema = op.jsonBody!;
      const props = Object.keys(schema.properties ?? {});
      const nested = (name: string) => resolve(doc, schema.properties![name]);
      const shaped = fc.record(
        Object.fromEntries(
          props.map((p) => {
            const inner = nested(p);
            const innerProps = Object.keys(inner.properties ?? {});
            const value = innerProps.length
              ? fc.oneof(hostileValue, fc.record(Object.fromEntries(innerProps.map((q) => [q, hostileValue])), { requiredKeys: [] }))
              : hostileValue;
            return [p, value];
          }),
        ),
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(shaped, async (body) => {
          const o = await probe(op, urlFor(op), JSON.stringify(body));
          if (!acceptable(o)) bad.push(explain(o));
          return acceptable(o);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      ).catch(unrecorded(bad, () => op.key));
    }
    expect(bad).toEqual([]);
  }, 300_000);

  it('any JSON value as the body (arrays where objects are expected, scalars, objects of junk) → never 5xx', async () => {
    const bad: string[] = [];
    for (const op of jsonOps()) {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.array(hostileValue, { maxLength: 3 }), hostileValue), async (body) => {
          const o = await probe(op, urlFor(op), JSON.stringify(body) ?? 'null');
          if (!acceptable(o)) bad.push(explain(o));
          return acceptable(o);
        }),
        { numRuns: Math.ceil(RUNS / 2), seed: SEED, endOnFailure: true },
      ).catch(unrecorded(bad, () => op.key));
    }
    expect(bad).toEqual([]);
  }, 300_000);

  it('raw bodies (bare NaN/Infinity tokens, 2^63 money, 20 000-deep nesting, prototype keys, duplicate keys, BOM, truncated) → 4xx problem+json', async () => {
    const bad: string[] = [];
    for (const op of jsonOps()) {
      for (const raw of rawBodies(op.jsonBody!)) {
        const o = await probe(op, urlFor(op), raw);
        if (!acceptable(o) || o.status < 400 && /NaN|Infinity|__proto__|constructor|9223372036854775808|1e309/.test(raw)) bad.push(explain(o));
      }
      for (const [type, raw] of [
        ['text/plain', '{}'],
        ['application/xml', '<a/>'],
        ['application/x-www-form-urlencoded', 'role=admin'],
        ['application/json; charset=utf-16', '{}'],
      ] as const) {
        const o = await probe(op, urlFor(op), raw, type);
        if (!acceptable(o)) bad.push(explain(o));
      }
    }
    expect(bad).toEqual([]);
  }, 300_000);

  it('hostile path ids and query strings on every route → 4xx or 2xx, never 5xx', async () => {
    const bad: string[] = [];
    const ids = ['not-a-uuid', '..%2F..%2Fetc%2Fpasswd', '%00', 'x'.repeat(5000), '00000000-0000-0000-0000-000000000000', "1'%20OR%20'1'='1", '%F0%9F%98%80', '-1', '1e309'];
    for (const op of ops) {
      const who = callerFor(op);
      if (op.pathParams.length) {
        for (const id of ids) {
          const url = op.path.replace(/\{\w+\}/g, id);
          let req = t.http[op.method](url);
          if (who) req = req.set(who.auth);
          const res = await (op.jsonBody ? req.send({}) : req.send());
          outcomes.push({ op: op.key, body: `path ${id.slice(0, 40)}`, status: res.status, problem: true, changed: [] });
          if (res.status >= 500 || (res.status >= 400 && !/problem\+json/.test(res.headers['content-type'] ?? ''))) bad.push(`${op.key} with id ${id.slice(0, 40)}: ${res.status} ${res.headers['content-type']}`);
        }
      }
      if (op.method === 'get' && op.queryParams.length) {
        await fc.assert(
          fc.asyncProperty(fc.dictionary(fc.constantFrom(...op.queryParams.map((q) => q.name), 'applicantId', 'role', '__proto__'), fc.oneof(hostileString, fc.constantFrom('0', '-1', '101', '1e3', '9223372036854775808', 'NaN', 'true', '[]'))), async (query) => {
            let req = t.http.get(urlFor(op)).query(query);
            if (who) req = req.set(who.auth);
            const res = await req;
            outcomes.push({ op: op.key, body: `query ${JSON.stringify(query).slice(0, 100)}`, status: res.status, problem: true, changed: [] });
            const ok = res.status < 500 && (res.status < 400 || /problem\+json/.test(res.headers['content-type'] ?? ''));
            if (!ok) bad.push(`${op.key} with query ${JSON.stringify(query).slice(0, 200)}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
            return ok;
          }),
          { numRuns: RUNS, seed: SEED, endOnFailure: true },
        ).catch(unrecorded(bad, () => op.key));
      }
    }
    expect(bad).toEqual([]);
  }, 300_000);

  it('POST /users/{id}/conflicts with {"hospitalId": null} answers 400, not 500 (found by this suite, fixed)', async () => {
    const res = await t.http.post(`${API}/users/${spare.id}/conflicts`).set(w.admin.auth).send({ hospitalId: null });
    expect(res.status).toBe(400);
  });

  it('half a surrogate pair ("\\ud800") or a NUL in any string answers 400 naming where, not 500 (found by this suite, fixed)', async () => {
    const register = await t.http
      .post(`${API}/auth/register`)
      .set('Content-Type', 'application/json')
      .send('{"email":"\\ud800","password":"a long enough password","fullName":"Li Mei"}');
    expect(register.status).toBe(400);
    expect(register.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(register.body.detail).toMatch(/not valid Unicode.*\$\.email/);
    const invite = await t.http.post(`${API}/users`).set(w.admin.auth).set('Content-Type', 'application/json').send('{"email":"x@example.org","fullName":"\\udc00","role":"reviewer"}');
    expect(invite.status).toBe(400);
    const forgot = await t.http.post(`${API}/auth/forgot-password`).set('Content-Type', 'application/json').send('{"email":"\\u0000"}');
    expect(forgot.status).toBe(400);
    expect(forgot.body.detail).toMatch(/not valid Unicode.*\$\.email/);
    const withEmoji = await t.http.post(`${API}/auth/register`).send({ email: `emoji-${randomUUID().slice(0, 6)}@example.org`, password: 'a long enough password', fullName: '李梅 😀' });
    expect(withEmoji.status).toBe(201);
  });

  it('the ledger and the audit chain still verify after all of it', async () => {
    const ledger = await t.http.get(`${API}/fund/ledger/verify`).set(w.admin.auth).expect(200);
    expect(ledger.body.ok).toBe(true);
    const audit = await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200);
    expect(audit.body.ok).toBe(true);
  });
});
