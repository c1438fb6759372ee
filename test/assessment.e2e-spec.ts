import { DEFAULT_MEANS_POLICY } from 'src/assessment/means-policy';
import { signedInUser } from 'test/support/factories';
import { applicationWorld, createDraftApplication, createSubmittedApplication } from 'test/support/application-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';

describe('Means policy and assessments (e2e)', () => {
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

  it('serves version 1 (the defaults) to staff only', async () => {
    const reviewer = await signedInUser(t, 'reviewer');
    const res = await t.http.get(`${API}/policies/means-assessment`).set(reviewer.auth).expect(200);
    expect(res.body).toEqual({ version: 1, policy: DEFAULT_MEANS_POLICY, createdAt: expect.any(String) });
    const family = await signedInUser(t, 'applicant');
    expect((await t.http.get(`${API}/policies/means-assessment`).set(family.auth)).status).toBe(403);
    expect((await t.http.get(`${API}/policies/means-assessment`)).status).toBe(401);
  });

  it('replaces the policy as version 2 (admin only); earlier assessments keep version 1, new ones use version 2', async () => {
    const { admin, hospital, family } = await applicationWorld(t);
    const reviewer = await signedInUser(t, 'reviewer');
    const submitted = await createSubmittedApplication(t, family, hospital.id);
    const draft = await createDraftApplication(t, family, hospital.id);

    // A generous policy: the national rural standard doubles, so the worked-example family becomes tier A.
    const next = structuredClone(DEFAULT_MEANS_POLICY);
    next.minimumLivingStandards[1] = { ...next.minimumLivingStandards[1], monthlyAmount: 118_780, source: 'test', effectiveFrom: '2026-01-01' };
    expect((await t.http.put(`${API}/policies/means-assessment`).set(reviewer.auth).send(next)).status).toBe(403);
    const put = await t.http.put(`${API}/policies/means-assessment`).set(admin.auth).send(next);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ version: 2, policy: next });
    expect((await t.http.get(`${API}/policies/means-assessment`).set(reviewer.auth).expect(200)).body.version).toBe(2);
    const v1 = await t.http.get(`${API}/policies/means-assessment`).query({ version: 1 }).set(reviewer.auth).expect(200);
    expect(v1.body.policy).toEqual(DEFAULT_MEANS_POLICY);
    // A version that is no version: 400 validation-failed naming it, whatever is wrong with it; empty is left out.
    for (const query of ['version=abc', 'version=1&version=2', 'version=0', 'version=1.5', 'version=2147483648', 'version=0x1', 'version=1e0', 'version=+1']) {
      const res = await t.http.get(`${API}/policies/means-assessment?${query}`).set(reviewer.auth);
      expect([query, res.status, res.body.type, res.body.errors]).toEqual([query, 400, expect.stringMatching(/validation-failed$/), [expect.objectContaining({ field: 'version' })]]);
    }
    expect((await t.http.get(`${API}/policies/means-assessment?version=`).set(reviewer.auth).expect(200)).body.version).toBe(2);
    await t.http.get(`${API}/policies/means-assessment?version=3`).set(reviewer.auth).expect(404);

    const old = await t.http.get(`${API}/applications/${submitted.id}/assessment`).set(reviewer.auth).expect(200);
    expect(old.body).toMatchObject({ policyVersion: 1, tier: 'B', recommendedAmount: 10_000_000, subsistence: 2_850_720 });

    await t.http.patch(`${API}/applications/${draft.id}`).set(family.auth).send({ medical: { otherAid: 100_000 } }).expect(200);
    const own = await t.http.get(`${API}/applications/${draft.id}/assessment`).set(family.auth).expect(200);
    expect(own.body).toMatchObject({ status: 'complete', policyVersion: 2, tier: 'A', recommendedAmount: 10_000_000, missing: [], computedAt: expect.any(String) });
    const [row] = await t.dataSource.query(
      `SELECT policy_version, (result->>'subsistence')::bigint AS subsistence FROM means_assessments WHERE application_id = $1 ORDER BY id DESC LIMIT 1`,
      [draft.id],
    );
    expect(row).toEqual({ policy_version: 2, subsistence: String(12 * 4 * 118_780) });
    expect(await t.dataSource.query(`SELECT summary FROM audit_events WHERE action = 'means_policy.replaced'`)).toEqual([
      { summary: { previousVersion: 1, version: 2 } },
    ]);
  });

  it('applies a standard loaded ahead only from the day it takes effect (China date of the assessment)', async () => {
    const { admin, hospital, family } = await applicationWorld(t);
    const draft = await createDraftApplication(t, family, hospital.id);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    const next = structuredClone(DEFAULT_MEANS_POLICY);
    const rural = next.minimumLivingStandards[1];
    next.minimumLivingStandards.push(
      { ...rural, monthlyAmount: 118_780, source: 'announced, from next year', effectiveFrom: `${Number(today.slice(0, 4)) + 1}-01-01` },
      { ...rural, monthlyAmount: 60_000, source: 'in force from today', effectiveFrom: today },
    );
    await t.http.put(`${API}/policies/means-assessment`).set(admin.auth).send(next).expect(200);
    await t.http.patch(`${API}/applications/${draft.id}`).set(family.auth).send({ medical: { otherAid: 100_000 } }).expect(200);
    const own = await t.http.get(`${API}/applications/${draft.id}/assessment`).set(family.auth).expect(200);
    expect(own.body).toMatchObject({ policyVersion: 2, minimumLivingStandard: { region: 'CN', hukouType: 'rural', monthlyAmount: 60_000 } });
  });

  it('refuses a save from a stale version (If-Match) with 409 version-conflict naming the current one; without If-Match saves as before', async () => {
    const admin = await signedInUser(t, 'admin');
    const other = await signedInUser(t, 'admin');
    const put = (who: typeof admin, policy: object, ifMatch?: string) => {
      const req = t.http.put(`${API}/policies/means-assessment`).set(who.auth);
      return ifMatch === undefined ? req.send(policy) : req.set('If-Match', ifMatch).send(policy);
    };
    const mine = structuredClone(DEFAULT_MEANS_POLICY);
    mine.caps.ist = 4_000_000;
    const theirs = structuredClone(DEFAULT_MEANS_POLICY);
    theirs.caps.supportive = 1_500_000;

    // Both edited version 1; the second to save would have silently undone the first's change.
    expect((await put(admin, mine, '"1"').expect(200)).body.version).toBe(2);
    const stale = await put(other, theirs, '"1"');
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ type: 'https://sprout.example.org/problems/version-conflict', currentVersion: 2 });
    const current = await t.http.get(`${API}/policies/means-assessment`).set(admin.auth).expect(200);
    expect(current.body).toMatchObject({ version: 2, policy: mine });

    expect((await put(other, { ...theirs, caps: { ...mine.caps, supportive: 1_500_000 } }, 'W/"2"').expect(200)).body.version).toBe(3);
    const malformed = await put(admin, mine, 'two');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors).toEqual([{ field: 'If-Match', message: 'must be the policy version, e.g. "3"' }]);
    // API.md's clients send no If-Match: stored as the next version, as before.
    expect((await put(admin, mine).expect(200)).body.version).toBe(4);

    // Two saves from the same version at once: one is stored, the other is told its version is stale.
    const both = await Promise.all([put(admin, mine, '"4"'), put(other, theirs, '"4"')]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(both.find((r) => r.status === 409)!.body).toMatchObject({ type: 'https://sprout.example.org/problems/version-conflict', currentVersion: 5 });
    const versions = (await t.dataSource.query(`SELECT summary FROM audit_events WHERE action = 'means_policy.replaced' ORDER BY id`)) as { summary: { version: number } }[];
    expect(versions.map((r) => r.summary.version)).toEqual([2, 3, 4, 5]);
  });

  it('refuses an invalid policy with 400 naming every bad field and keeps the current version', async () => {
    const admin = await signedInUser(t, 'admin');
    const bad = structuredClone(DEFAULT_MEANS_POLICY) as unknown as Record<string, any>;
    bad.shares.B = 1.2;
    bad.caps.hsct = -1;
    bad.minimumLivingStandards = bad.minimumLivingStandards.filter((r: { region: string }) => r.region !== 'CN');
    bad.surprise = true;
    const res = await t.http.put(`${API}/policies/means-assessment`).set(admin.auth).send(bad);
    expect(res.status).toBe(400);
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['shares.B', 'caps.hsct', 'minimumLivingStandards', 'surprise']));
    expect((await t.http.get(`${API}/policies/means-assessment`).set(admin.auth).expect(200)).body.version).toBe(1);
    expect((await t.http.put(`${API}/policies/means-assessment`).set(admin.auth).send([1, 2])).status).toBe(400);
  });

  it('shows the family the working of its own assessment (API.md), and fund finance only the outcome', async () => {
    const { hospital, family } = await applicationWorld(t);
    const app = await createSubmittedApplication(t, family, hospital.id, { household: { ownsVehicle: true } });
    const reviewer = await signedInUser(t, 'reviewer');
    const full = await t.http.get(`${API}/applications/${app.id}/assessment`).set(reviewer.auth).expect(200);
    expect(full.body.manualReviewReasons).toEqual(['owns_vehicle']);
    expect(full.body.capacityToPay).toBe(1_949_280);
    // The family entered these figures and may ask how the assessment reached its result: the contract's fields.
    const own = await t.http.get(`${API}/applications/${app.id}/assessment`).set(family.auth).expect(200);
    const { otherOpenApplications, earlierGrants, otherOpenApplicationsWithheld, earlierGrantsWithheld, ...working } = full.body;
    expect([otherOpenApplications, earlierGrants, otherOpenApplicationsWithheld, earlierGrantsWithheld]).toEqual([[], [], 0, 0]); // the reviewers' only
    expect(own.body).toEqual(working);
    for (const field of ['policyVersion', 'tier', 'outOfPocket', 'subsistence', 'capacityToPay', 'burdenRatio', 'recommendedAmount', 'manualReviewReasons', 'computedAt']) {
      expect([field, field in own.body]).toEqual([field, true]);
    }
    // Fund finance plans the fund from the outcome; the working would give away the household's income, size and
    // assets and the treatment's cost, which it may not see.
    const fund = await signedInUser(t, 'fund_finance');
    const outcome = await t.http.get(`${API}/applications/${app.id}/assessment`).set(fund.auth).expect(200);
    expect(Object.keys(outcome.body).sort()).toEqual(['computedAt', 'missing', 'policyVersion', 'recommendedAmount', 'status', 'tier']);
    expect(outcome.body).toMatchObject({ tier: full.body.tier, recommendedAmount: full.body.recommendedAmount });
  });
});
