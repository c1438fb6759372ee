import fc from 'fast-check';
import { createHospital, signedInUser, SignedIn } from 'test/support/factories';
import { createSubmittedApplication } from 'test/support/application-factory';
import { contribute } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';
const PROBLEM = 'https://sprout.example.org/problems/';
const THRESHOLD = 5_000_000; // SECOND_APPROVAL_THRESHOLD's default
const APPS = 3;
const MODEL_SEED = process.env.FUZZ_SEED === 'random' ? Date.now() % 2_147_483_647 : Number(process.env.FUZZ_SEED ?? 7);

type Status = 'submitted' | 'under_review' | 'info_requested' | 'awaiting_second_approval' | 'approved' | 'rejected' | 'withdrawn';

/** What the service should hold, kept by hand: the statuses, the pending first approvals and the fund. */
type Model = {
  apps: { status: Status; first: { reviewer: number; amount: number } | null }[];
  available: number;
  committed: number;
  emails: Record<string, number>;
};

type Real = { t: TestApp; ids: string[]; refs: string[]; reviewers: SignedIn[]; family: SignedIn; finance: SignedIn };

type Outcome = { status: number; type?: string };

/** How often each command met each answer: printed, to show what the random runs covered. */
const seen = new Map<string, number>();

const ok: Outcome = { status: 200 };
const refused = (slug: string): Outcome => ({ status: 409, type: `${PROBLEM}${slug}` });
const badStatus = refused('invalid-status-transition');

abstract class ReviewCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true; // refusals are part of the model too
  }

  async run(m: Model, r: Real): Promise<void> {
    const expected = this.apply(m);
    const res = await this.send(r);
    const outcome = `${this.toString().split('(')[0]} → ${res.status === 200 ? 200 : res.body.type?.replace(PROBLEM, '')}`;
    seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    expect([this.toString(), res.status, res.status === 200 ? undefined : res.body.type]).toEqual([this.toString(), expected.status, expected.type]);
    const fund = (await r.t.http.get(`${API}/fund`).set(r.finance.auth).expect(200)).body;
    expect({ available: fund.available, committed: fund.committed }).toEqual({ available: m.available, committed: m.committed });
    for (let i = 0; i < APPS; i++) {
      const app = await r.t.http.get(`${API}/applications/${r.ids[i]}`).set(r.reviewers[0].auth).expect(200);
      expect([this.toString(), i, app.body.status]).toEqual([this.toString(), i, m.apps[i].status]);
    }
  }

  /** Updates the model and says what the service must answer. */
  abstract apply(m: Model): Outcome;
  abstract send(r: Real): Promise<{ status: number; body: { type?: string } }>;
  abstract toString(): string;
}

class StartReview extends ReviewCommand {
  constructor(readonly app: number, readonly reviewer: number) {
    super();
  }
  apply(m: Model): Outcome {
    const a = m.apps[this.app];
    if (a.status !== 'submitted') return badStatus;
    a.status = 'under_review';
    return ok;
  }
  send(r: Real) {
    return r.t.http.post(`${API}/applications/${r.ids[this.app]}/start-review`).set(r.reviewers[this.reviewer].auth).send({});
  }
  toString() {
    return `start-review(app ${this.app}, r${this.reviewer})`;
  }
}

class RequestInfo extends ReviewCommand {
  constructor(readonly app: number, readonly reviewer: number) {
    super();
  }
  apply(m: Model): Outcome {
    const a = m.apps[this.app];
    if (a.status !== 'under_review') return badStatus;
    a.status = 'info_requested';
    m.emails['info-requested']++;
    return ok;
  }
  send(r: Real) {
    return r.t.http.post(`${API}/applications/${r.ids[this.app]}/request-info`).set(r.reviewers[this.reviewer].auth).send({ message: '请补充收入证明' });
  }
  toString() {
    return `request-info(app ${this.app}, r${this.reviewer})`;
  }
}

class Resubmit extends ReviewCommand {
  constructor(readonly app: number) {
    super();
  }
  apply(m: Model): Outcome {
    const a = m.apps[this.app];
    if (a.status !== 'info_requested') return badStatus;
    a.status = 'submitted';
    m.emails['application-submitted']++;
    return ok;
  }
  send(r: Real) {
    return r.t.http.post(`${API}/applications/${r.ids[this.app]}/submit`).set(r.family.auth).send({});
  }
  toString() {
    return `resubmit(app ${this.app})`;
  }
}

class Withdraw extends ReviewCommand {
  constructor(readonly app: number) {
    super();
  }
  apply(m: Model): Outcome {
    const a = m.apps[this.app];
    if (a.status !== 'submitted' && a.status !== 'info_requested') return badStatus;
    a.status = 'withdrawn';
    return ok;
  }
  send(r: Real) {
    return r.t.http.post(`${API}/applications/${r.ids[this.app]}/withdraw`).set(r.family.auth).send({});
  }
  toString() {
    return `withdraw(app ${this.app})`;
  }
}

class Approve extends ReviewCommand {
  constructor(readonly app: number, readonly reviewer: number, readonly amount: number) {
    super();
  }
  apply(m: Model): Outcome {
    const a = m.apps[this.app];
    if (a.status === 'awaiting_second_approval') {
      if (a.first!.reviewer === this.reviewer) return refused('four-eyes-same-reviewer');
      if (a.first!.amount !== this.amount) return refused('four-eyes-amount-mismatch');
      a.status = 'approved';
      m.emails['application-approved']++;
      return ok;
    }
    if (a.status !== 'under_review') return badStatus;
    if (this.amount > m.available) return refused('insufficient-funds');
    m.available -= this.amount;
    m.committed += this.amount;
    if (this.amount >= THRESHOLD) {
      a.status = 'awaiting_second_approval';
      a.first = { reviewer: this.reviewer, amount: this.amount };
    } else {
      a.status = 'approved';
      m.emails['application-approved']++;
    }
    return ok;
  }
  send(r: Real) {
    return r.t.http.post(`${API}/applications/${r.ids[this.app]}/approve`).set(r.reviewers[this.reviewer].auth).send({ amount: this.amount });
  }
  toString() {
    return `approve(app ${this.app}, r${this.reviewer}, ${this.amount})`;
  }
}

class Reject extends ReviewCommand {
  constructor(readonly app: number, readonly reviewer: number) {
    super();
  }
  apply(m: Model): Outcome {
    const a = m.apps[this.app];
    if (a.status === 'awaiting_second_approval') {
      m.available += a.first!.amount;
      m.committed -= a.first!.amount;
    } else if (a.status !== 'under_review') {
      return badStatus;
    }
    a.status = 'rejected';
    m.emails['application-rejected']++;
    return ok;
  }
  send(r: Real) {
    return r.t.http.post(`${API}/applications/${r.ids[this.app]}/reject`).set(r.reviewers[this.reviewer].auth).send({ reason: '不符合条件' });
  }
  toString() {
    return `reject(app ${this.app}, r${this.reviewer})`;
  }
}

class Contribute extends ReviewCommand {
  constructor(readonly amount: number) {
    super();
  }
  apply(m: Model): Outcome {
    m.available += this.amount;
    return ok;
  }
  async send(r: Real) {
    await contribute(r.t, r.finance, this.amount);
    return { status: 200, body: {} };
  }
  toString() {
    return `contribute(${this.amount})`;
  }
}

describe('Review model (e2e, fast-check)', () => {
  let t: TestApp;
  let users: { admin: SignedIn; reviewers: SignedIn[]; family: SignedIn; finance: SignedIn; hospital: { id: string } };

  beforeAll(async () => {
    t = await startTestApp();
    await t.reset();
    const admin = await signedInUser(t, 'admin');
    users = {
      admin,
      hospital: await createHospital(t, admin),
      reviewers: [await signedInUser(t, 'reviewer'), await signedInUser(t, 'reviewer')],
      family: await signedInUser(t, 'applicant', { locale: 'zh-CN' }),
      finance: await signedInUser(t, 'fund_finance'),
    };
  });
  afterAll(async () => {
    await t.close();
  });

  /** Three submitted applications: one through HTTP, two cloned from it in SQL (rows and documents) for speed. */
  async function freshApplications(): Promise<{ ids: string[]; refs: string[] }> {
    const app = await createSubmittedApplication(t, users.family, users.hospital.id);
    const clones = (await t.dataSource.query(
      `INSERT INTO applications
       SELECT (jsonb_populate_record(a, jsonb_build_object(
                 'id', gen_random_uuid(),
                 'reference', 'SPR-2026-' || lpad(nextval('application_reference_seq')::text, 6, '0'),
                 'submitted_at', a.submitted_at + g * interval '1 millisecond'))).*
         FROM applications a, generate_series(1, $2::int) g WHERE a.id = $1
       RETURNING id, reference`,
      [app.id, APPS - 1],
    )) as { id: string; reference: string }[];
    for (const clone of clones) {
      await t.dataSource.query(
        `INSERT INTO application_documents (id, application_id, type, file_name, content_type, size, sha256, storage_key, uploaded_by, created_at)
         SELECT gen_random_uuid(), $2::uuid, type, file_name, content_type, size, sha256, storage_key || '-' || $2::text, uploaded_by, created_at
           FROM application_documents WHERE application_id = $1`,
        [app.id, clone.id],
      );
    }
    return { ids: [app.id, ...clones.map((c) => c.id)], refs: [app.reference, ...clones.map((c) => c.reference)] };
  }

  it('matches a simple model of statuses, four-eyes approvals, the fund and the emails over random action sequences', async () => {
    const app = fc.integer({ min: 0, max: APPS - 1 });
    const reviewer = fc.integer({ min: 0, max: 1 });
    const amount = fc.constantFrom(1_000_000, 4_999_999, 5_000_000, 7_000_000, 10_000_000);
    // Weighted towards review decisions: most random sequences otherwise withdraw or stall before any approval.
    const command = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(app, reviewer).map(([a, r]): ReviewCommand => new StartReview(a, r)) },
      { weight: 1, arbitrary: fc.tuple(app, reviewer).map(([a, r]): ReviewCommand => new RequestInfo(a, r)) },
      { weight: 2, arbitrary: app.map((a): ReviewCommand => new Resubmit(a)) },
      { weight: 1, arbitrary: app.map((a): ReviewCommand => new Withdraw(a)) },
      { weight: 8, arbitrary: fc.tuple(app, reviewer, amount).map(([a, r, x]): ReviewCommand => new Approve(a, r, x)) },
      { weight: 2, arbitrary: fc.tuple(app, reviewer).map(([a, r]): ReviewCommand => new Reject(a, r)) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).map((k): ReviewCommand => new Contribute(k * 1_000_000)) },
    );
    const commands = fc.commands([command], { maxCommands: 25, size: 'max' });
    const started = Date.now();
    await fc.assert(
      // An empty fund half the time: approvals then meet insufficient funds (until a contribution comes in).
      fc.asyncProperty(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 15 })), commands, async (initialMillions, cmds) => {
        const { ids, refs } = await freshApplications();
        if (initialMillions > 0) await contribute(t, users.finance, initialMillions * 1_000_000);
        const fund = (await t.http.get(`${API}/fund`).set(users.finance.auth).expect(200)).body;
        const model: Model = {
          apps: ids.map(() => ({ status: 'submitted', first: null })),
          available: fund.available,
          committed: fund.committed,
          emails: { 'info-requested': 0, 'application-submitted': 0, 'application-approved': 0, 'application-rejected': 0 },
        };
        const real: Real = { t, ids, refs, reviewers: users.reviewers, family: users.family, finance: users.finance };
        await fc.asyncModelRun(() => ({ model, real }), cmds);

        // The outbox holds exactly the emails the model expects (the submission that created app 0 aside).
        const rows = (await t.dataSource.query(
          `SELECT template, count(*)::int AS n FROM notifications WHERE context ->> 'reference' = ANY($1) AND locale = 'zh-CN' GROUP BY template`,
          [refs],
        )) as { template: string; n: number }[];
        const sent = Object.fromEntries(rows.map((row) => [row.template, row.n]));
        expect({ ...model.emails, 'application-submitted': model.emails['application-submitted'] + 1 }).toEqual({
          'info-requested': sent['info-requested'] ?? 0,
          'application-submitted': sent['application-submitted'] ?? 0,
          'application-approved': sent['application-approved'] ?? 0,
          'application-rejected': sent['application-rejected'] ?? 0,
        });
        const ledger = await t.http.get(`${API}/fund/ledger/verify`).set(users.admin.auth).expect(200);
        expect(ledger.body.ok).toBe(true);
      }),
      // A fixed seed and every run completed: an interrupted run (a time limit) counted as neither pass nor failure,
      // so a busy machine checked fewer sequences and a failure at the limit was lost. FUZZ_SEED=random explores.
      { numRuns: 40, endOnFailure: true, seed: MODEL_SEED },
    );
    console.info(`model run: ${Date.now() - started} ms; outcomes seen:`, Object.fromEntries([...seen].sort()));
    // The runs must have reached the decisions, not only refusals.
    const wanted = ['approve → 200', 'approve → insufficient-funds', 'approve → four-eyes-same-reviewer', 'reject → 200', 'request-info → 200', 'resubmit → 200', 'withdraw → 200'];
    expect(wanted.filter((outcome) => !seen.get(outcome))).toEqual([]);
    const audit = await t.http.get(`${API}/audit/verify`).set(users.admin.auth).expect(200);
    expect(audit.body.ok).toBe(true);
  }, 120_000);
});
