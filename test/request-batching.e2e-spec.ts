import { setTimeout as sleep } from 'node:timers/promises';
import { byIdStatement } from 'src/applications/application-reads';
import { applicationScope } from 'src/applications/application-scope';
import { SESSION_USERS } from 'src/auth/token.service';
import type { AuthUser, Role } from 'src/common/auth/roles';
import { PreparedQueries } from 'src/database/prepared-queries';
import { applicationWorld, createDraftApplication, createSubmittedApplication, Family, OTHER_PATIENT_NATIONAL_ID } from 'test/support/application-factory';
import { createHospital, signedInUser, SignedIn } from 'test/support/factories';
import { startTestApp, TestApp } from 'test/support/test-app';

type Call = { text: string; values: unknown[][] };

/**
 * Session checks and reads by id of requests that arrive together share one statement (TokenService,
 * ApplicationReads). Here every statement is held back 500 ms on its way to PostgreSQL, so the requests that arrive
 * meanwhile wait in one batch: each must still get its own answer — its own application, 404 for another family's,
 * 401 for a session that was ended — whatever else went into its batch.
 */
describe('Requests that share a statement (e2e)', () => {
  let t: TestApp;
  let calls: Call[];
  /** Only while the requests under test run: setting their data up goes at full speed. */
  let holding = false;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    calls = [];
    // On the prototype: each module that provides PreparedQueries has an instance of its own.
    const rows = PreparedQueries.prototype.rows;
    jest.spyOn(PreparedQueries.prototype, 'rows').mockImplementation(async function (this: PreparedQueries, text, values) {
      calls.push({ text, values: values as unknown[][] });
      if (holding) await sleep(500);
      return rows.call(this, text, values);
    });
  });
  afterEach(() => {
    holding = false;
    jest.restoreAllMocks();
  });

  const sessionOf = (user: SignedIn) => (JSON.parse(Buffer.from(user.token.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
  const batchesOf = (pattern: RegExp) => calls.filter((c) => pattern.test(c.text));

  it('answers each request of a batch with its own row, its own 404 and its own 401', async () => {
    const { admin, hospital, family: first } = await applicationWorld(t);
    const otherHospital = await createHospital(t, admin);
    const families: Family[] = [first];
    for (let i = 1; i < 6; i++) families.push(await signedInUser(t, 'applicant'));
    const drafts: { id: string; reference: string }[] = [];
    for (const family of families.slice(0, 5)) drafts.push(await createDraftApplication(t, family, hospital.id));
    const submitted = await createSubmittedApplication(t, families[5], hospital.id);
    const granted = await createSubmittedApplication(t, families[4], hospital.id, { patient: { nationalId: OTHER_PATIENT_NATIONAL_ID, dateOfBirth: '2018-03-07' } });
    await t.dataSource.query(`UPDATE applications SET status = 'approved' WHERE id = $1`, [granted.id]); // a grant, for the reads here
    const reviewer = await signedInUser(t, 'reviewer');
    const itsFinance = await signedInUser(t, 'hospital_finance', { hospitalId: hospital.id });
    const otherFinance = await signedInUser(t, 'hospital_finance', { hospitalId: otherHospital.id });
    const ended = [families[1], families[3]];
    for (const family of ended) await t.http.post('/api/v1/auth/logout').set(family.auth).expect(204);
    calls = [];

    const get = (user: SignedIn, id: string) => t.http.get(`/api/v1/applications/${id}`).set(user.auth);
    const cases = [
      ...drafts.map((draft, i) => ({ user: families[i], id: draft.id, expect: ended.includes(families[i]) ? 401 : 200 })),
      ...drafts.map((draft, i) => ({ user: families[(i + 1) % 5], id: draft.id, expect: ended.includes(families[(i + 1) % 5]) ? 401 : 404 })),
      { user: families[5], id: submitted.id, expect: 200 },
      { user: reviewer, id: submitted.id, expect: 200 },
      { user: reviewer, id: drafts[0].id, expect: 404 },
      { user: itsFinance, id: granted.id, expect: 200 },
      { user: otherFinance, id: granted.id, expect: 404 },
      { user: itsFinance, id: submitted.id, expect: 404 }, // no grant: not the hospital's finance office's to see
      { user: itsFinance, id: drafts[1].id, expect: 404 },
    ];
    holding = true;
    const responses = await Promise.all(cases.map((c) => get(c.user, c.id)));
    holding = false;

    responses.forEach((res, i) => {
      expect({ case: i, status: res.status }).toEqual({ case: i, status: cases[i].expect });
      if (cases[i].expect === 200) expect(res.body.id).toBe(cases[i].id);
    });
    const ownDraft = responses[0].body as { id: string; reference: string; patient: { fullName: string } };
    expect(ownDraft.reference).toBe(drafts[0].reference);
    expect(responses[drafts.length * 2 + 1].body.reference).toBe(submitted.reference);

    // The batches really were shared: one session check held a live and an ended session, one read by id the rows of
    // two families (one of them not the caller's).
    const sessionBatches = batchesOf(/WITH ORDINALITY AS c\(sid, uid, tv, n\)/);
    const mixedSessions = sessionBatches.find((c) => c.values[0].includes(sessionOf(ended[0])) && c.values[0].includes(sessionOf(families[0])));
    expect(mixedSessions).toBeDefined();
    const readBatches = batchesOf(/JOIN applications a ON a\.id = q\.id WHERE a\.applicant_id = q\.value$/);
    const [ids, callers] = readBatches.reduce((a, b) => (b.values[0].length > a.values[0].length ? b : a)).values as string[][];
    const ownerOf = (id: string) => (id === submitted.id ? families[5] : families[drafts.findIndex((d) => d.id === id)]).id;
    expect(ids.length).toBeGreaterThan(2);
    expect(ids.some((id, k) => callers[k] === ownerOf(id))).toBe(true);
    expect(ids.some((id, k) => callers[k] !== ownerOf(id))).toBe(true);
  }, 60_000);

  // BATCH_ARRAYS_NOTE: with the arrays as plain parameters PostgreSQL planned these statements again at every
  // execution, because a custom plan for a batch of one looked cheaper than the generic plan. Here the property that
  // fixes it, which does not depend on the tables' statistics: no plan of the statement knows the batch's size.
  it('plans each batched statement the same for a batch of one as for a batch of three', async () => {
    const someone = (role: Role): AuthUser => ({ id: randomId(), email: 'x@example.org', role, hospitalId: randomId(), sessionId: randomId(), emailVerified: true });
    const ids = (n: number) => `ARRAY[${Array.from({ length: n }, () => `'${randomId()}'`).join(', ')}]::uuid[]`;
    const statements = [
      { text: SESSION_USERS, args: (n: number) => `${ids(n)}, ${ids(n)}, ARRAY[${Array(n).fill(1).join(', ')}]` },
      ...(['applicant', 'reviewer', 'hospital_finance'] as const).map((role) => ({
        text: byIdStatement(applicationScope(someone(role))!, role !== 'hospital_finance'),
        args: (n: number) => `${ids(n)}, ${ids(n)}`,
      })),
    ];
    const runner = t.dataSource.createQueryRunner();
    try {
      for (const [i, statement] of statements.entries()) {
        await runner.query(`PREPARE batch_${i} AS ${statement.text}`);
        const estimate = async (n: number) => {
          const [{ 'QUERY PLAN': plan }] = (await runner.query(`EXPLAIN (FORMAT JSON) EXECUTE batch_${i}(${statement.args(n)})`)) as { 'QUERY PLAN': unknown }[];
          return functionScanRows(plan);
        };
        const [one, three] = [await estimate(1), await estimate(3)];
        expect({ statement: i, one }).toEqual({ statement: i, one: three });
        expect(one).toBeGreaterThan(1);
      }
    } finally {
      // Only these: the connection goes back to the app's pool, whose own named statements node-postgres keeps track of.
      for (const i of statements.keys()) await runner.query(`DEALLOCATE batch_${i}`).catch(() => undefined);
      await runner.release();
    }
  });
});

/** The estimated rows of the plan's Function Scan (the unnested arrays). */
function functionScanRows(plan: unknown): number | undefined {
  const stack = [plan];
  while (stack.length) {
    const node = stack.pop() as Record<string, unknown> | unknown[] | null;
    if (!node || typeof node !== 'object') continue;
    if (Array.isArray(node)) stack.push(...node);
    else if (node['Node Type'] === 'Function Scan') return node['Plan Rows'] as number;
    else stack.push(...Object.values(node));
  }
  return undefined;
}

const randomId = () => crypto.randomUUID();

