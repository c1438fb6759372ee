import { randomUUID } from 'node:crypto';
import { createHospital, login, signedInUser } from 'test/support/factories';
import {
  applicationBody,
  applicationWorld,
  createDraftApplication,
  createSubmittedApplication,
  DOCUMENT_TYPES_FOR_SUBMISSION,
  files,
  GUARDIAN_NATIONAL_ID,
  OTHER_PATIENT_NATIONAL_ID,
  PATIENT_NATIONAL_ID,
  uploadDocument,
  uploadRequiredDocuments,
} from 'test/support/application-factory';
import { ApplicationRecords } from 'src/applications/application-records';
import { DEFAULT_MEANS_POLICY } from 'src/assessment/means-policy';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';

describe('Applications (e2e)', () => {
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

  it('shows staff national ids masked, whole only when asked, and records every such reveal', async () => {
    const { hospital, family } = await applicationWorld(t);
    const app = await createSubmittedApplication(t, family, hospital.id);
    const [reviewer, admin, finance] = [await signedInUser(t, 'reviewer'), await signedInUser(t, 'admin'), await signedInUser(t, 'fund_finance')];
    const read = (who: { auth: Record<string, string> }, query = '') => t.http.get(`${API}/applications/${app.id}${query}`).set(who.auth);
    const reveals = () =>
      t.dataSource.query(`SELECT actor_id, summary FROM audit_events WHERE action = 'application.national_ids_revealed' ORDER BY id`);
    const masked = (id: string) => `${'*'.repeat(14)}${id.slice(-4)}`;

    const own = await read(family).expect(200);
    expect([own.body.patient.nationalId, own.body.guardian.nationalId]).toEqual([PATIENT_NATIONAL_ID, GUARDIAN_NATIONAL_ID]);
    for (const staff of [reviewer, admin]) {
      const seen = await read(staff).expect(200);
      expect([seen.body.patient.nationalId, seen.body.guardian.nationalId]).toEqual([masked(PATIENT_NATIONAL_ID), masked(GUARDIAN_NATIONAL_ID)]);
      // Nothing else in the answer gives back what the mask hides: the region's code and the birth date are the id's first 14.
      expect(JSON.stringify(seen.body)).not.toContain(PATIENT_NATIONAL_ID.slice(0, 6));
    }
    expect(await reveals()).toEqual([]);

    const revealed = await read(reviewer, '?reveal=nationalIds').expect(200);
    expect([revealed.body.patient.nationalId, revealed.body.guardian.nationalId]).toEqual([PATIENT_NATIONAL_ID, GUARDIAN_NATIONAL_ID]);
    await read(admin, '?reveal=nationalIds').expect(200);
    await read(family, '?reveal=nationalIds').expect(200); // the family's own: nothing to record
    expect(await reveals()).toEqual([
      { actor_id: reviewer.id, summary: {} },
      { actor_id: admin.id, summary: {} },
    ]);
    // The family sees that its child's ids were read, as it sees staff downloads of its documents.
    const history = await t.http.get(`${API}/applications/${app.id}/history`).set(family.auth).expect(200);
    expect(history.body.items.filter((e: { action: string }) => e.action === 'application.national_ids_revealed')).toHaveLength(2);

    for (const [who, query, field] of [
      [finance, '?reveal=nationalIds', 'reveal'],
      [reviewer, '?reveal=everything', 'reveal'],
      [reviewer, '?show=ids', 'show'],
    ] as const) {
      const refused = await read(who, query).expect(400);
      expect(refused.body.errors).toEqual([expect.objectContaining({ field })]);
    }
    expect(await reveals()).toHaveLength(2);
  });

  it('takes a family from a partial draft over several visits, through documents, to a submission with the worked-example assessment', async () => {
    const { hospital, family } = await applicationWorld(t);

    // Visit 1: only the child.
    const created = await t.http
      .post(`${API}/applications`)
      .set(family.auth)
      .send({ patient: { fullName: '王小明', dateOfBirth: '2019-05-01', nationalId: ` ${PATIENT_NATIONAL_ID.toLowerCase()} ` } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'draft', version: 1, hospitalId: null, patient: { fullName: '王小明', nationalId: PATIENT_NATIONAL_ID } });
    expect(created.body.reference).toMatch(new RegExp(`^SPR-${new Date(Date.now() + 8 * 3600_000).getUTCFullYear()}-\\d{6}$`));
    const id = created.body.id as string;

    const draftAssessment = await t.http.get(`${API}/applications/${id}/assessment`).set(family.auth).expect(200);
    expect(draftAssessment.body).toMatchObject({ status: 'incomplete', tier: null, recommendedAmount: null, policyVersion: 1 });
    expect(draftAssessment.body.missing).toEqual(expect.arrayContaining(['household.size', 'medical.estimatedCost', 'patient.region']));

    // Visit 2: hospital, the rest of the child, the guardian and the household.
    const body = applicationBody(hospital.id);
    const second = await t.http
      .patch(`${API}/applications/${id}`)
      .set(family.auth)
      .send({ hospitalId: hospital.id, patient: { sex: 'male', region: 'CN-GS', hukouType: 'rural' }, guardian: body.guardian, household: body.household });
    expect(second.status).toBe(200);
    expect(second.body.version).toBe(2);
    expect(second.body.patient).toEqual({ ...body.patient });
    expect(second.body.guardian).toEqual(body.guardian);

    // Visit 3: medical detail and consents (with If-Match of the version read).
    const third = await t.http
      .patch(`${API}/applications/${id}`)
      .set({ ...family.auth, 'If-Match': '"2"' })
      .send({ medical: body.medical, consents: body.consents });
    expect(third.status).toBe(200);
    expect(third.body.version).toBe(3);
    expect(third.body.consents).toEqual(body.consents);
    expect(third.body.consentRecords).toHaveLength(4);
    expect(third.body.consentRecords[0]).toEqual({ consent: 'sensitiveData', given: true, recordedAt: expect.any(String), textVersion: expect.any(String) });
    expect(third.body).toMatchObject({ tier: 'B', recommendedAmount: 10_000_000 });

    // A stale version is refused.
    const stale = await t.http.patch(`${API}/applications/${id}`).set({ ...family.auth, 'If-Match': '2' }).send({ medical: { otherAid: 0 } });
    expect(stale.status).toBe(409);

    for (const type of DOCUMENT_TYPES_FOR_SUBMISSION) {
      const res = await uploadDocument(t, family, id, type);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        type,
        fileName: `${type}.pdf`,
        contentType: 'application/pdf',
        size: files.pdf().length,
        sha256: require('node:crypto').createHash('sha256').update(files.pdf()).digest('hex'),
        createdAt: expect.any(String),
        submitted: false,
      });
    }
    const docs = await t.http.get(`${API}/applications/${id}/documents`).set(family.auth).expect(200);
    expect(docs.body.items.map((d: { type: string }) => d.type)).toEqual([...DOCUMENT_TYPES_FOR_SUBMISSION]);

    const submitted = await t.http.post(`${API}/applications/${id}/submit`).set(family.auth).send();
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ id, status: 'submitted', version: 4 });

    const reviewer = await signedInUser(t, 'reviewer');
    const full = await t.http.get(`${API}/applications/${id}/assessment`).set(reviewer.auth).expect(200);
    expect(full.body).toEqual({
      status: 'complete',
      policyVersion: 1,
      tier: 'B',
      outOfPocket: 18_000_000,
      subsistence: 2_850_720,
      countableAssets: 0,
      capacityToPay: 1_949_280,
      burdenRatio: 9.2342,
      monthlyPerCapitaIncome: 100_000,
      minimumLivingStandard: { region: 'CN', hukouType: 'rural', monthlyAmount: 59_390 },
      recommendedAmount: 10_000_000,
      manualReviewReasons: [],
      otherOpenApplications: [],
      earlierGrants: [],
      otherOpenApplicationsWithheld: 0,
      earlierGrantsWithheld: 0,
      missing: [],
      computedAt: expect.any(String),
    });
    const own = await t.http.get(`${API}/applications/${id}/assessment`).set(family.auth).expect(200);
    // The worked example of DESIGN.md, as the family reads it.
    expect(own.body).toEqual({
      status: 'complete', policyVersion: 1, tier: 'B', recommendedAmount: 10_000_000, missing: [], computedAt: expect.any(String),
      outOfPocket: 18_000_000, subsistence: 2_850_720, countableAssets: 0, capacityToPay: 1_949_280, burdenRatio: 9.2342,
      monthlyPerCapitaIncome: 100_000, minimumLivingStandard: { region: 'CN', hukouType: 'rural', monthlyAmount: 59_390 }, manualReviewReasons: [],
    });

    // At rest: no national id in plain text anywhere in the row.
    const [row] = await t.dataSource.query('SELECT to_jsonb(a) AS row FROM applications a WHERE id = $1', [id]);
    const stored = JSON.stringify(row.row);
    expect(stored).not.toContain(PATIENT_NATIONAL_ID);
    expect(stored).not.toContain(GUARDIAN_NATIONAL_ID);
    expect(row.row.patient_national_id_enc).toMatch(/^v1\./);
    expect(row.row.patient_national_id_hash).toMatch(/^[0-9a-f]{64}$/);

    const mail = await t.mail.waitForMailTo(family.email);
    expect(mail.text).toContain(created.body.reference);
    expect(mail.text).not.toContain(PATIENT_NATIONAL_ID);

    const audit = await t.dataSource.query(`SELECT action FROM audit_events WHERE object_id = $1 ORDER BY id`, [id]);
    expect(audit.map((a: { action: string }) => a.action)).toEqual([
      'application.created',
      'application.updated',
      'application.updated',
      ...DOCUMENT_TYPES_FOR_SUBMISSION.map(() => 'document.uploaded'),
      'application.submitted',
    ]);
    const assessments = await t.dataSource.query(`SELECT trigger, complete FROM means_assessments WHERE application_id = $1 ORDER BY id`, [id]);
    // One assessment of the form as it last stood, not one per visit (each a copy of the household's means), and the
    // one the submission took.
    expect(assessments).toEqual([
      { trigger: 'updated', complete: true },
      { trigger: 'submitted', complete: true },
    ]);
  });

  it('refuses to submit an incomplete application (422), listing every missing item, and changes nothing', async () => {
    const { hospital } = await applicationWorld(t);
    const email = `unverified-${Date.now()}@example.org`;
    await t.http.post(`${API}/auth/register`).send({ email, password: 'correct horse battery staple', fullName: '李梅' }).expect(201);
    const session = await login(t, email);
    const empty = await t.http.post(`${API}/applications`).set(session.auth).send({}).expect(201);

    const res = await t.http.post(`${API}/applications/${empty.body.id}/submit`).set(session.auth).send();
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(
      [
        'email',
        'hospitalId',
        ...['fullName', 'sex', 'dateOfBirth', 'nationalId', 'region', 'hukouType'].map((f) => `patient.${f}`),
        ...['fullName', 'relationship', 'nationalId', 'phone'].map((f) => `guardian.${f}`),
        ...['size', 'annualIncome', 'liquidAssets', 'debts', 'ownsVehicle', 'ownsExtraProperty', 'statusFlags'].map((f) => `household.${f}`),
        ...['diagnosis', 'diagnosedOn', 'treatmentPlan', 'estimatedCost', 'expectedReimbursement', 'otherAid'].map((f) => `medical.${f}`),
        'consents.sensitiveData',
        'consents.guardian',
        'consents.truthfulness',
        'documents.diagnosis_certificate',
        'documents.cost_estimate',
        'documents.guardian_id',
        'documents.household_register',
        'documents.poverty_certificate|income_proof',
      ].sort(),
    );

    // Complete but for one document and the verified email: exactly those are named.
    await t.http.patch(`${API}/applications/${empty.body.id}`).set(session.auth).send(applicationBody(hospital.id)).expect(200);
    for (const type of DOCUMENT_TYPES_FOR_SUBMISSION.filter((d) => d !== 'guardian_id')) {
      expect((await uploadDocument(t, session as never, empty.body.id, type)).status).toBe(201);
    }
    const again = await t.http.post(`${API}/applications/${empty.body.id}/submit`).set(session.auth).send();
    expect(again.status).toBe(422);
    expect(again.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['documents.guardian_id', 'email']);
    const [row] = await t.dataSource.query('SELECT status, version, submitted_at FROM applications WHERE id = $1', [empty.body.id]);
    expect(row).toEqual({ status: 'draft', version: 2, submitted_at: null });
    expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE template = 'application-submitted'`)).toEqual([{ n: 0 }]);
  });

  it('refuses changes after submission (409 naming the status), refuses a second submit, and withdraws', async () => {
    const { hospital, family } = await applicationWorld(t);
    const app = await createSubmittedApplication(t, family, hospital.id);

    const patch = await t.http.patch(`${API}/applications/${app.id}`).set(family.auth).send({ household: { size: 5 } });
    expect(patch.status).toBe(409);
    expect(patch.body).toMatchObject({ type: expect.stringContaining('invalid-status-transition'), currentStatus: 'submitted' });
    expect(patch.body.detail).toContain('submitted');
    const upload = await uploadDocument(t, family, app.id, 'other');
    expect(upload.status).toBe(409);
    const resubmit = await t.http.post(`${API}/applications/${app.id}/submit`).set(family.auth).send();
    expect(resubmit.status).toBe(409);
    expect(resubmit.body.currentStatus).toBe('submitted');

    // A body-less action labelled JSON (as many clients label every request) is the action.
    const withdrawn = await t.http.post(`${API}/applications/${app.id}/withdraw`).set(family.auth).set('Content-Type', 'application/json');
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toMatchObject({ id: app.id, status: 'withdrawn', version: app.version + 1 });
    const twice = await t.http.post(`${API}/applications/${app.id}/withdraw`).set(family.auth).send();
    expect(twice.status).toBe(409);
    expect(twice.body.currentStatus).toBe('withdrawn');
    expect((await t.http.patch(`${API}/applications/${app.id}`).set(family.auth).send({ household: { size: 5 } })).status).toBe(409);

    // A draft can be withdrawn too.
    const draft = await createDraftApplication(t, family, hospital.id);
    await t.http.post(`${API}/applications/${draft.id}/withdraw`).set(family.auth).send().expect(200);
    const audit = await t.dataSource.query(`SELECT action, summary FROM audit_events WHERE action = 'application.withdrawn' ORDER BY id`);
    expect(audit.map((a: { summary: { from: string } }) => a.summary.from)).toEqual(['submitted', 'draft']);
  });

  it("withdrawing a draft never submitted erases what it held of the child and the household; a submitted one's stays as the fund's record", async () => {
    const { hospital, family } = await applicationWorld(t);
    const draft = await createDraftApplication(t, family, hospital.id);
    const submitted = await createSubmittedApplication(t, family, hospital.id, { patient: { nationalId: OTHER_PATIENT_NATIONAL_ID, dateOfBirth: '2018-03-07' } });
    const stored = async (id: string) =>
      (
        await t.dataSource.query(
          `SELECT patient, guardian, household, medical, consents <> '{}'::jsonb AS consents_kept, patient_national_id_enc IS NOT NULL AS patient_id,
                  patient_national_id_hash IS NOT NULL AS patient_hash, guardian_national_id_enc IS NOT NULL AS guardian_id, assessment_tier,
                  (SELECT count(*)::int FROM means_assessments m WHERE m.application_id = a.id) AS assessments
             FROM applications a WHERE id = $1`,
          [id],
        )
      )[0];
    expect(await stored(draft.id)).toMatchObject({ patient_id: true, guardian_id: true, assessments: 1 });

    for (const app of [draft, submitted]) await t.http.post(`${API}/applications/${app.id}/withdraw`).set(family.auth).send().expect(200);

    expect(await stored(draft.id)).toEqual({
      patient: { fullName: '王小明' }, guardian: {}, household: {}, medical: {}, consents_kept: true,
      patient_id: false, patient_hash: false, guardian_id: false, assessment_tier: null, assessments: 0,
    });
    const own = await t.http.get(`${API}/applications/${draft.id}`).set(family.auth).expect(200);
    expect(own.body).toMatchObject({ status: 'withdrawn', patient: { fullName: '王小明' }, guardian: {}, household: {}, medical: {} });
    expect(own.body.patient.nationalId).toBeUndefined();
    const kept = await stored(submitted.id);
    expect(kept).toMatchObject({ patient_id: true, patient_hash: true, guardian_id: true, assessment_tier: expect.any(String) });
    expect(kept.household).not.toEqual({});
    const audit = await t.dataSource.query(`SELECT object_id, summary FROM audit_events WHERE action = 'application.withdrawn' ORDER BY id`);
    expect(audit.map((a: { summary: Record<string, unknown> }) => a.summary.detailsErased ?? false)).toEqual([true, false]);
    // The family is told of each withdrawal (it cannot be undone; one they did not make means someone is in their
    // account), and of the draft's details being deleted; nothing of the child's in it.
    const told = async (reference: string) => t.mail.waitFor((m) => m.to.includes(family.email) && m.subject === `Your application ${reference} was withdrawn`);
    const [draftMail, submittedMail] = await Promise.all([told(draft.reference), told(submitted.reference)]);
    expect(draftMail.text).toContain('what it held about your child and your household has been deleted');
    expect(submittedMail.text).not.toContain('deleted');
    for (const mail of [draftMail, submittedMail]) {
      expect(mail.text).toContain('change your password at once');
      expect(mail.text).not.toContain('王小明');
      expect(mail.text).not.toContain(OTHER_PATIENT_NATIONAL_ID);
    }
  });

  it('emails a withdrawal only to an address the account proved it reads: a stranger\'s address registered under a "name" of spam gets nothing', async () => {
    const victim = `victim-${randomUUID().slice(0, 8)}@example.org`;
    const spam = '中奖通知：请访问 http://evil.example 领取奖金';
    await t.http.post(`${API}/auth/register`).send({ email: victim, password: 'correct horse battery staple', fullName: spam, locale: 'zh-CN' }).expect(201);
    const attacker = await login(t, victim);
    for (let i = 0; i < 3; i++) {
      const draft = await t.http.post(`${API}/applications`).set(attacker.auth).send({ patient: { fullName: 'x' } }).expect(201);
      await t.http.post(`${API}/applications/${draft.body.id}/withdraw`).set(attacker.auth).send().expect(200);
    }
    expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE to_email = $1 AND template = 'application-withdrawn'`, [victim])).toEqual([{ n: 0 }]);
  });

  it('lets exactly one of three concurrent submissions win', async () => {
    const { hospital, family } = await applicationWorld(t);
    const draft = await createDraftApplication(t, family, hospital.id);
    await uploadRequiredDocuments(t, family, draft.id);
    const results = await Promise.all([1, 2, 3].map(() => t.http.post(`${API}/applications/${draft.id}/submit`).set(family.auth).send()));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE template = 'application-submitted'`)).toEqual([{ n: 1 }]);
    expect(await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'application.submitted'`)).toEqual([{ n: 1 }]);
  });

  it('answers another family with 404 on every application route, exactly as for an id that does not exist', async () => {
    const { hospital, family } = await applicationWorld(t);
    const other = await signedInUser(t, 'applicant');
    const draft = await createDraftApplication(t, family, hospital.id);
    const [docId] = await uploadRequiredDocuments(t, family, draft.id);
    const missing = randomUUID();

    const routes = (id: string, doc: string) => [
      () => t.http.get(`${API}/applications/${id}`),
      () => t.http.patch(`${API}/applications/${id}`).send({ household: { size: 2 } }),
      () => t.http.post(`${API}/applications/${id}/submit`).send(),
      () => t.http.post(`${API}/applications/${id}/withdraw`).send(),
      () => t.http.get(`${API}/applications/${id}/assessment`),
      () => t.http.get(`${API}/applications/${id}/documents`),
      () => t.http.post(`${API}/applications/${id}/documents`).field('type', 'other').attach('file', files.pdf(), 'x.pdf'),
      () => t.http.get(`${API}/applications/${id}/documents/${doc}/content`),
    ];
    const theirs = routes(draft.id, docId);
    const nobody = routes(missing, randomUUID());
    for (let i = 0; i < theirs.length; i++) {
      const res = await theirs[i]().set(other.auth);
      const control = await nobody[i]().set(other.auth);
      expect([i, res.status]).toEqual([i, 404]);
      expect(res.body).toEqual(control.body);
      expect(JSON.stringify(res.body)).not.toContain(draft.id);
    }
    const list = await t.http.get(`${API}/applications`).set(other.auth).expect(200);
    expect(list.body.items).toEqual([]);
    // Nothing changed for the owner.
    const own = await t.http.get(`${API}/applications/${draft.id}`).set(family.auth).expect(200);
    expect(own.body).toMatchObject({ status: 'draft', version: 1, household: { size: 4 } });
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM application_documents')).toEqual([{ n: DOCUMENT_TYPES_FOR_SUBMISSION.length }]);
  });

  it("takes API.md's own example body, whose national ids have wrong check characters, with a warning on each; it submits", async () => {
    const { hospital, family } = await applicationWorld(t);
    // Verbatim from API.md but for the hospital's id.
    const body = JSON.parse(`{
      "hospitalId": "${hospital.id}",
      "patient":   {"fullName": "王小明", "sex": "male", "dateOfBirth": "2019-05-01", "nationalId": "310101201905010011",
                    "region": "CN-SH", "hukouType": "rural"},
      "guardian":  {"fullName": "李梅", "relationship": "mother", "nationalId": "310101198801010022", "phone": "13800000000"},
      "household": {"size": 4, "annualIncome": 4800000, "liquidAssets": 1000000, "debts": 0,
                    "ownsVehicle": false, "ownsExtraProperty": false, "statusFlags": ["dibao"]},
      "medical":   {"diagnosis": "acquired_aplastic_anemia", "icd10": "D61.9", "diagnosedOn": "2026-09-01",
                    "anc": 0.3, "platelets": 15, "reticulocytes": 18, "treatmentPlan": "hsct",
                    "estimatedCost": 40000000, "expectedReimbursement": 22000000, "otherAid": 0},
      "consents":  {"sensitiveData": true, "guardian": true, "truthfulness": true, "publicDisclosure": false}
    }`);
    const created = await t.http.post(`${API}/applications`).set(family.auth).send(body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(String), reference: expect.any(String), status: 'draft' });
    expect((created.body.warnings as { field: string }[]).map((w) => w.field).sort()).toEqual(['guardian.nationalId', 'patient.nationalId']);
    await uploadRequiredDocuments(t, family, created.body.id);
    await t.http.post(`${API}/applications/${created.body.id}/submit`).set(family.auth).send().expect(200);
  });

  it('validates every field and names each bad one (400), saving nothing', async () => {
    const { hospital, family } = await applicationWorld(t);
    const res = await t.http
      .post(`${API}/applications`)
      .set(family.auth)
      .send({
        hospitalId: hospital.id,
        patient: { nationalId: '31010120190501001', dateOfBirth: '2999-01-01', sex: 'boy' },
        guardian: { nationalId: '310101198813010022', phone: '555-1234' },
        household: { size: 0, annualIncome: 1.5, debts: -1, statusFlags: ['rich'] },
        medical: { anc: -0.3, estimatedCost: '40000000', diagnosedOn: '2025-02-29' },
        status: 'approved',
      });
    expect(res.status).toBe(400);
    const fields = new Set((res.body.errors as { field: string }[]).map((e) => e.field));
    expect([...fields].sort()).toEqual(
      [
        'guardian.nationalId',
        'guardian.phone',
        'household.annualIncome',
        'household.debts',
        'household.size',
        'household.statusFlags',
        'medical.anc',
        'medical.diagnosedOn',
        'medical.estimatedCost',
        'patient.dateOfBirth',
        'patient.nationalId',
        'patient.sex',
        'status',
      ].sort(),
    );
    expect(JSON.stringify(res.body)).not.toContain('31010120190501001');
    const unknownHospital = await t.http.post(`${API}/applications`).set(family.auth).send({ hospitalId: randomUUID() });
    expect(unknownHospital.status).toBe(400);
    expect(unknownHospital.body.errors).toEqual([{ field: 'hospitalId', message: 'does not name a known hospital' }]);
    expect(await t.dataSource.query('SELECT count(*)::int AS n FROM applications')).toEqual([{ n: 0 }]);

    const staff = await signedInUser(t, 'reviewer');
    expect((await t.http.post(`${API}/applications`).set(staff.auth).send({})).status).toBe(403);
  });

  it('names: invisible or reordering characters are not a name; an id in capitals is the same id; long arrays are refused at once', async () => {
    const { hospital, family } = await applicationWorld(t);
    const app = await createDraftApplication(t, family, hospital.id);
    const patch = (body: object, version?: number) => {
      const req = t.http.patch(`${API}/applications/${app.id}`).set(family.auth);
      return (version === undefined ? req : req.set('If-Match', String(version))).send(body);
    };
    // Only zero-width and direction characters: refused, naming the field; nothing changes.
    const blank = await patch({ patient: { fullName: '\u200b\u200f' }, guardian: { fullName: '\u3164' } });
    expect(blank.status).toBe(400);
    expect((blank.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['guardian.fullName', 'patient.fullName']);
    // A right-to-left override would show the name reordered in the review queue: stored without it.
    const spoof = await patch({ patient: { fullName: '\u202e王小明\u200b ' } });
    expect(spoof.status).toBe(200);
    expect(spoof.body.patient.fullName).toBe('王小明');

    // The same hospital id in capitals is no change: no new version, so another tab's If-Match still holds.
    const before = spoof.body.version as number;
    const same = await patch({ hospitalId: hospital.id.toUpperCase() }, before);
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ hospitalId: hospital.id, version: before });

    // A status-flags array of 20,000 items (repeats) is refused by the body parser before any validator compares them.
    const long = await patch({ household: { statusFlags: Array.from({ length: 20_000 }, () => 'dibao') } });
    expect(long.status).toBe(400);
    expect(long.body.detail).toContain('more than 10000 items at $.household.statusFlags');
    const repeated = await patch({ household: { statusFlags: ['dibao', 'dibao'] } });
    expect(repeated.status).toBe(400);
    expect(repeated.body.errors).toEqual([expect.objectContaining({ field: 'household.statusFlags', message: expect.stringContaining('must not repeat') })]);

    // A national id whose birth date is before 1900 (1019 for 2019) is not well formed.
    const ancient = await patch({ patient: { nationalId: '110105101912310021' } });
    expect(ancient.status).toBe(400);
    expect(ancient.body.errors).toEqual([expect.objectContaining({ field: 'patient.nationalId' })]);

    // Registering under an invisible name is refused too.
    const register = await t.http.post(`${API}/auth/register`).send({ email: `blank-${randomUUID().slice(0, 8)}@example.org`, password: 'a long enough password', fullName: '\u200b' });
    expect(register.status).toBe(400);
    expect(register.body.errors).toEqual([expect.objectContaining({ field: 'fullName' })]);
  });

  it('warns (without refusing) about a patient over 18, and flags the case for manual review', async () => {
    const { hospital, family } = await applicationWorld(t);
    // Born 2005-03-01: the id's birth date matches, so the age is the only warning.
    const adultId = withCheckCharacter('31010120050301001');
    const app = await createDraftApplication(t, family, hospital.id, { patient: { dateOfBirth: '2005-03-01', nationalId: adultId } });
    expect(app.body.warnings).toEqual([{ field: 'patient.dateOfBirth', message: expect.stringContaining('older than 18') }]);
    await uploadRequiredDocuments(t, family, app.id);
    await t.http.post(`${API}/applications/${app.id}/submit`).set(family.auth).send().expect(200);
    const reviewer = await signedInUser(t, 'reviewer');
    const assessment = await t.http.get(`${API}/applications/${app.id}/assessment`).set(reviewer.auth).expect(200);
    expect(assessment.body.manualReviewReasons).toEqual(['patient_over_age']);

    // Counted on the day the family first applied, as the assessment counts it: applied at 18, read at 19, no warning.
    await t.dataSource.query(`UPDATE applications SET first_submitted_at = '2024-02-20T04:00:00Z' WHERE id = $1`, [app.id]);
    expect((await t.http.get(`${API}/applications/${app.id}`).set(family.auth).expect(200)).body.warnings).toEqual([]);
  });

  it("warns of the patient's age by the age limit of the policy the application was last assessed with", async () => {
    const { admin, hospital, family } = await applicationWorld(t);
    // 17 on the default policy's terms (over 18 is flagged): no warning.
    const seventeenId = withCheckCharacter('31010120090301001');
    const app = await createDraftApplication(t, family, hospital.id, { patient: { dateOfBirth: '2009-03-01', nationalId: seventeenId } });
    expect(app.body.warnings).toEqual([]);

    const stricter = structuredClone(DEFAULT_MEANS_POLICY);
    stricter.manualReview.maxPatientAgeYears = 16;
    await t.http.put(`${API}/policies/means-assessment`).set(admin.auth).send(stricter).expect(200);
    // Read before anything reassesses it: still the terms of its assessment (version 1), as the reviewer sees them.
    expect((await t.http.get(`${API}/applications/${app.id}`).set(family.auth).expect(200)).body.warnings).toEqual([]);

    // An edit reassesses under version 2; the answer, the next read and a no-change edit all warn "older than 16".
    const edited = await t.http.patch(`${API}/applications/${app.id}`).set(family.auth).send({ medical: { otherAid: 100_000 } }).expect(200);
    const overSixteen = [{ field: 'patient.dateOfBirth', message: expect.stringContaining('older than 16') }];
    expect(edited.body.warnings).toEqual(overSixteen);
    expect((await t.http.get(`${API}/applications/${app.id}`).set(family.auth).expect(200)).body.warnings).toEqual(overSixteen);
    expect((await t.http.patch(`${API}/applications/${app.id}`).set(family.auth).send({}).expect(200)).body.warnings).toEqual(overSixteen);

    await uploadRequiredDocuments(t, family, app.id);
    await t.http.post(`${API}/applications/${app.id}/submit`).set(family.auth).send().expect(200);
    const reviewer = await signedInUser(t, 'reviewer');
    expect((await t.http.get(`${API}/applications/${app.id}`).set(reviewer.auth).expect(200)).body.warnings).toEqual(overSixteen);
    const assessment = await t.http.get(`${API}/applications/${app.id}/assessment`).set(reviewer.auth).expect(200);
    expect(assessment.body.manualReviewReasons).toEqual(['patient_over_age']);

    // A later, laxer policy does not change what this submitted case was assessed with.
    const laxer = structuredClone(DEFAULT_MEANS_POLICY);
    laxer.manualReview.maxPatientAgeYears = 21;
    await t.http.put(`${API}/policies/means-assessment`).set(admin.auth).send(laxer).expect(200);
    expect((await t.http.get(`${API}/applications/${app.id}`).set(family.auth).expect(200)).body.warnings).toEqual(overSixteen);
  });

  it('flags a second open application for the same child for manual review, without rejecting it', async () => {
    const { hospital, family } = await applicationWorld(t);
    const father = await signedInUser(t, 'applicant');
    const first = await createSubmittedApplication(t, family, hospital.id);
    const second = await createSubmittedApplication(t, father, hospital.id, { guardian: { fullName: '王强', relationship: 'father' } });
    // A draft never submitted names the child too: reviewers cannot see it, so it flags nothing.
    const aunt = await signedInUser(t, 'applicant');
    await createDraftApplication(t, aunt, hospital.id, { guardian: { fullName: '王芳', relationship: 'aunt' } });
    const reviewer = await signedInUser(t, 'reviewer');
    const assessmentOf = async (id: string, who = reviewer) => (await t.http.get(`${API}/applications/${id}/assessment`).set(who.auth).expect(200)).body;
    const a2 = await assessmentOf(second.id);
    expect(a2).toMatchObject({ tier: 'B', manualReviewReasons: ['duplicate_child_application'], otherOpenApplications: [first.reference] });
    // The father sees his own figures, but not that someone else applied for the child: that is the reviewers' to look into.
    const own = await assessmentOf(second.id, father);
    expect(own).toMatchObject({ tier: 'B', capacityToPay: a2.capacityToPay, manualReviewReasons: [] });
    expect(own.otherOpenApplications).toBeUndefined();
    // The first was assessed before the father applied; its reviewer is told now all the same (a grant paid twice
    // for one child is what the flag is for).
    expect(await assessmentOf(first.id)).toMatchObject({ manualReviewReasons: ['duplicate_child_application'], otherOpenApplications: [second.reference] });
    expect((await t.http.get(`${API}/applications/${second.id}`).set(reviewer.auth).expect(200)).body.status).toBe('submitted');

    // Once the first is withdrawn, the second no longer has another open application, though its stored assessment
    // was computed when it had.
    await t.http.post(`${API}/applications/${first.id}/withdraw`).set(family.auth).send().expect(200);
    expect(await assessmentOf(second.id)).toMatchObject({ manualReviewReasons: [], otherOpenApplications: [] });
    const third = await createSubmittedApplication(t, family, hospital.id);
    expect(await assessmentOf(third.id)).toMatchObject({ manualReviewReasons: ['duplicate_child_application'], otherOpenApplications: [second.reference] });
    expect((await assessmentOf(third.id, family)).manualReviewReasons).toEqual([]);
  });

  it('looks the child up among open applications through their index, in generic plans too', async () => {
    // The query as the service sends it (a prepared statement, whose plan PostgreSQL may make generic after five
    // runs): its status condition must match the partial index's predicate, or the look-up scans the whole table.
    const facts = t.app.get(ApplicationRecords).assessmentFacts(1);
    const runner = t.dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      await runner.query(`SET LOCAL enable_seqscan = off`);
      await runner.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
      await runner.query(`PREPARE facts_plan AS SELECT ${facts.columns} FROM (VALUES (1)) one ${facts.join}`);
      const plan = (await runner.query(`EXPLAIN EXECUTE facts_plan('${'a'.repeat(64)}', '${randomUUID()}')`)) as { 'QUERY PLAN': string }[];
      const text = plan.map((p) => p['QUERY PLAN']).join('\n');
      expect(text).toContain('applications_open_patient_hash_idx');
      expect(text).not.toMatch(/Seq Scan on applications/);
    } finally {
      await runner.rollbackTransaction();
      await runner.query('DEALLOCATE facts_plan').catch(() => undefined); // PREPARE is not undone by ROLLBACK
      await runner.release();
    }
  });

  it('serves the review queue oldest first submission first (an answered question keeps the place), with tier and amount, keyset-paginated; drafts stay private', async () => {
    const { hospital, family } = await applicationWorld(t);
    const other = await signedInUser(t, 'applicant');
    const a = await createSubmittedApplication(t, family, hospital.id);
    const b = await createSubmittedApplication(t, other, hospital.id, { household: { statusFlags: ['dibao'] } });
    const c = await createSubmittedApplication(t, family, hospital.id, { medical: { treatmentPlan: 'ist' } });
    const draft = await createDraftApplication(t, family, hospital.id);
    const reviewer = await signedInUser(t, 'reviewer');

    const seen: { id: string; tier: string; recommendedAmount: number }[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: typeof seen; nextCursor: string | null } } = await t.http
        .get(`${API}/applications`)
        .query({ status: 'submitted', limit: 1, ...(cursor ? { cursor } : {}) })
        .set(reviewer.auth)
        .expect(200);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.map((i) => i.id)).toEqual([a.id, b.id, c.id]);
    expect(seen.map((i) => [i.tier, i.recommendedAmount])).toEqual([
      ['B', 10_000_000],
      ['A', 10_000_000],
      ['B', 5_000_000],
    ]);

    const tierA = await t.http.get(`${API}/applications`).query({ tier: 'A' }).set(reviewer.auth).expect(200);
    expect(tierA.body.items.map((i: { id: string }) => i.id)).toEqual([b.id]);
    expect((await t.http.get(`${API}/applications/${draft.id}`).set(reviewer.auth)).status).toBe(404);
    const all = await t.http.get(`${API}/applications`).query({ limit: 2 }).set(reviewer.auth).expect(200);
    expect(all.body.items.map((i: { id: string }) => i.id)).toEqual([c.id, b.id]);
    const rest = await t.http.get(`${API}/applications`).query({ limit: 2, cursor: all.body.nextCursor }).set(reviewer.auth).expect(200);
    expect(rest.body).toEqual({ items: [expect.objectContaining({ id: a.id })], nextCursor: null });
    // A forged cursor whose key is no timestamp is the client's mistake (it reached PostgreSQL's cast as a 500).
    const forged = Buffer.from(JSON.stringify({ k: 'not a time', id: a.id })).toString('base64url');
    const refused = await t.http.get(`${API}/applications`).query({ status: 'submitted', cursor: forged }).set(reviewer.auth).expect(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'cursor' })]);
    // A time of the right shape whose offset PostgreSQL refuses ("time zone displacement out of range") too.
    const farOffset = Buffer.from(JSON.stringify({ k: '2026-01-01T00:00:00+99', id: a.id })).toString('base64url');
    const offsetRefused = await t.http.get(`${API}/applications`).query({ status: 'submitted', cursor: farOffset }).set(reviewer.auth).expect(400);
    expect(offsetRefused.body.errors).toEqual([expect.objectContaining({ field: 'cursor' })]);

    // A question answered: the first application keeps its place ahead of those submitted while the family answered.
    await t.http.post(`${API}/applications/${a.id}/start-review`).set(reviewer.auth).send({}).expect(200);
    await t.http.post(`${API}/applications/${a.id}/request-info`).set(reviewer.auth).send({ message: 'Please add the latest income proof.' }).expect(200);
    await t.http.post(`${API}/applications/${a.id}/submit`).set(family.auth).send().expect(200);
    const queue = await t.http.get(`${API}/applications`).query({ status: 'submitted' }).set(reviewer.auth).expect(200);
    expect(queue.body.items.map((i: { id: string }) => i.id)).toEqual([a.id, b.id, c.id]);

    const mine = await t.http.get(`${API}/applications`).set(family.auth).expect(200);
    expect(mine.body.items.map((i: { id: string }) => i.id)).toEqual([draft.id, c.id, a.id]);
    // The list and the detail view show the same instants the same way (ISO 8601, milliseconds, UTC), the list's
    // written by PostgreSQL and the detail's by Date: microseconds are cut, not rounded, in both.
    await t.dataSource.query(
      `UPDATE applications SET submitted_at = '2026-03-15 10:03:35.744999+00', created_at = '2026-03-14 23:59:59.999999+00', updated_at = '2026-03-15 18:00:00.0005+08' WHERE id = $1`,
      [a.id],
    );
    const detail = await t.http.get(`${API}/applications/${a.id}`).set(family.auth).expect(200);
    const item = (await t.http.get(`${API}/applications`).set(family.auth).expect(200)).body.items.find((i: { id: string }) => i.id === a.id);
    expect([item.submittedAt, item.createdAt, item.updatedAt]).toEqual(['2026-03-15T10:03:35.744Z', '2026-03-14T23:59:59.999Z', '2026-03-15T10:00:00.000Z']);
    expect([item.submittedAt, item.createdAt, item.updatedAt]).toEqual([detail.body.submittedAt, detail.body.createdAt, detail.body.updatedAt]);
    expect(item.submittedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // The queue query is served by the (status, first_submitted_at, id) index, without a sort.
    const runner = t.dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      await runner.query('SET LOCAL enable_seqscan = off');
      const plan = (await runner.query(
        `EXPLAIN SELECT id FROM applications WHERE status = 'submitted' AND first_submitted_at IS NOT NULL ORDER BY first_submitted_at, id LIMIT 21`,
      )) as { 'QUERY PLAN': string }[];
      const text = plan.map((p) => p['QUERY PLAN']).join('\n');
      expect(text).toContain('applications_status_first_submitted_idx');
      expect(text).not.toMatch(/\bSort\b/);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('shows hospital finance only its hospital, without household, medical, ids or assessment; fund finance no sections', async () => {
    const { admin, hospital, family } = await applicationWorld(t);
    const otherHospital = await createHospital(t, admin);
    const mine = await createSubmittedApplication(t, family, hospital.id);
    const theirs = await createSubmittedApplication(t, family, otherHospital.id);
    const finance = await signedInUser(t, 'hospital_finance', { hospitalId: hospital.id });
    // Submitted only: no grant, so nothing of it for the hospital's finance office (DESIGN: what payouts need).
    expect((await t.http.get(`${API}/applications`).set(finance.auth).expect(200)).body.items).toEqual([]);
    expect((await t.http.get(`${API}/applications/${mine.id}`).set(finance.auth)).status).toBe(404);
    await t.dataSource.query(`UPDATE applications SET status = 'approved' WHERE id = ANY($1)`, [[mine.id, theirs.id]]); // granted, for the reads below

    const list = await t.http.get(`${API}/applications`).set(finance.auth).expect(200);
    expect(list.body.items.map((i: { id: string }) => i.id)).toEqual([mine.id]);
    expect(Object.keys(list.body.items[0]).sort()).toEqual(['createdAt', 'hospitalId', 'id', 'patientName', 'reference', 'status', 'submittedAt', 'updatedAt', 'version']);
    const filtered = await t.http.get(`${API}/applications`).query({ hospitalId: otherHospital.id }).set(finance.auth).expect(200);
    expect(filtered.body.items).toEqual([]);
    expect((await t.http.get(`${API}/applications`).query({ tier: 'B' }).set(finance.auth)).status).toBe(400);

    const one = await t.http.get(`${API}/applications/${mine.id}`).set(finance.auth).expect(200);
    expect(Object.keys(one.body).sort()).toEqual(['createdAt', 'hospitalId', 'id', 'patient', 'reference', 'status', 'submittedAt', 'updatedAt', 'version']);
    expect(one.body.patient).toEqual({ fullName: '王小明' });
    const text = JSON.stringify(one.body) + JSON.stringify(list.body);
    for (const secret of [PATIENT_NATIONAL_ID, GUARDIAN_NATIONAL_ID, 'household', 'medical', 'annualIncome', 'acquired_aplastic_anemia']) {
      expect(text).not.toContain(secret);
    }
    expect((await t.http.get(`${API}/applications/${theirs.id}`).set(finance.auth)).status).toBe(404);
    expect((await t.http.get(`${API}/applications/${mine.id}/assessment`).set(finance.auth)).status).toBe(403);
    expect((await t.http.get(`${API}/applications/${mine.id}/documents`).set(finance.auth)).status).toBe(403);

    const fund = await signedInUser(t, 'fund_finance');
    const fundView = await t.http.get(`${API}/applications/${mine.id}`).set(fund.auth).expect(200);
    expect(fundView.body).not.toHaveProperty('household');
    expect(fundView.body).not.toHaveProperty('medical');
    expect(JSON.stringify(fundView.body)).not.toContain(PATIENT_NATIONAL_ID);
    expect(fundView.body).toMatchObject({ tier: 'B', recommendedAmount: 10_000_000 });
    const fundList = await t.http.get(`${API}/applications`).set(fund.auth).expect(200);
    expect(fundList.body.items).toHaveLength(2);
  });

  it('the test factory builds submitted and draft applications for later issues', async () => {
    const { hospital, family } = await applicationWorld(t);
    const app = await createSubmittedApplication(t, family, hospital.id);
    expect(app.reference).toMatch(/^SPR-\d{4}-\d{6}$/);
    expect(app.documentIds).toHaveLength(DOCUMENT_TYPES_FOR_SUBMISSION.length);
    const draft = await createDraftApplication(t, family, hospital.id, { household: { statusFlags: ['dibao'] } });
    expect(draft.body).toMatchObject({ status: 'draft', tier: 'A' });
    const [submitted] = await t.dataSource.query('SELECT status, assessment_tier FROM applications WHERE id = $1', [app.id]);
    expect(submitted).toEqual({ status: 'submitted', assessment_tier: 'B' });
  });
});

function withCheckCharacter(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((s, w, i) => s + w * Number(first17[i]), 0);
  return first17 + '10X98765432'[sum % 11];
}

describe('Applications: drafts an account may hold (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MAX_OPEN_DRAFTS_PER_ACCOUNT: '2' });
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  it('refuses a draft past MAX_OPEN_DRAFTS_PER_ACCOUNT never-submitted ones (409 too-many-drafts, nothing written); submitted and withdrawn ones do not count', async () => {
    const { hospital, family } = await applicationWorld(t);
    const first = await createDraftApplication(t, family, hospital.id);
    await createDraftApplication(t, family, hospital.id);
    const count = async () => (await t.dataSource.query(`SELECT count(*)::int AS n FROM applications WHERE applicant_id = $1`, [family.id]))[0].n;

    const third = await t.http.post(`${API}/applications`).set(family.auth).send({ hospitalId: hospital.id });
    expect(third.status).toBe(409);
    expect(third.body).toMatchObject({ type: expect.stringContaining('too-many-drafts'), detail: expect.stringContaining('2 applications you have not submitted') });
    expect(await count()).toBe(2);
    // Another family is not held back by this one's drafts.
    const neighbour = await signedInUser(t, 'applicant');
    await t.http.post(`${API}/applications`).set(neighbour.auth).send({ hospitalId: hospital.id }).expect(201);

    // A withdrawn draft frees its place, and so does a submitted one.
    await t.http.post(`${API}/applications/${first.id}/withdraw`).set(family.auth).send().expect(200);
    const submitted = await createDraftApplication(t, family, hospital.id);
    expect((await t.http.post(`${API}/applications`).set(family.auth).send({ hospitalId: hospital.id })).status).toBe(409);
    await uploadRequiredDocuments(t, family, submitted.id);
    await t.http.post(`${API}/applications/${submitted.id}/submit`).set(family.auth).send().expect(200);
    await t.http.post(`${API}/applications`).set(family.auth).send({ hospitalId: hospital.id }).expect(201);
  });

  it('holds the limit under parallel creates of one account (its draft lock): 30 at once make exactly as many as there is room for', async () => {
    const { hospital, family } = await applicationWorld(t);
    const answers = await Promise.all(Array.from({ length: 30 }, () => t.http.post(`${API}/applications`).set(family.auth).send({ hospitalId: hospital.id })));
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(2).fill(201), ...Array(28).fill(409)]);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM applications WHERE applicant_id = $1`, [family.id]);
    expect(n).toBe(2);
    // A refused create leaves nothing behind: no assessment, no audit event of its own.
    const [written] = await t.dataSource.query(
      `SELECT (SELECT count(*)::int FROM means_assessments) AS assessments,
              (SELECT count(*)::int FROM audit_events WHERE action = 'application.created') AS created_events`,
    );
    expect(written).toEqual({ assessments: 2, created_events: 2 });
  });

  it('counts, after waiting for it, the draft of a create that holds the account\'s draft lock', async () => {
    const { hospital, family } = await applicationWorld(t);
    const first = await createDraftApplication(t, family, hospital.id);
    // Another create of the account, half done: it holds the draft lock and has written its draft, not yet committed.
    const other = t.dataSource.createQueryRunner();
    await other.connect();
    try {
      await other.startTransaction();
      await other.query('SELECT pg_advisory_xact_lock(727010, hashtext($1))', [family.id]);
      await other.query(
        `INSERT INTO applications
         SELECT (jsonb_populate_record(NULL::applications, to_jsonb(a) || jsonb_build_object('id', gen_random_uuid(), 'reference', a.reference || '9'))).*
           FROM applications a WHERE id = $1`,
        [first.id],
      );
      let answered = false;
      const create = t.http.post(`${API}/applications`).set(family.auth).send({ hospitalId: hospital.id }).then((r) => ((answered = true), r));
      await new Promise((r) => setTimeout(r, 500));
      expect(answered).toBe(false); // waiting for the lock, not counting one draft and saying yes
      await other.commitTransaction();
      expect((await create).status).toBe(409);
    } finally {
      if (other.isTransactionActive) await other.rollbackTransaction();
      await other.release();
    }
  });
});
