import { randomUUID } from 'node:crypto';
import { Role } from 'src/common/auth/roles';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';
import { createHospital, signedInUser, SignedIn } from 'test/support/factories';
import { approvedGrant, contribute, csvStatement } from 'test/support/grant-factory';
import { TestApp } from 'test/support/test-app';

const API = '/api/v1';

/** One family's side of the world: its hospital, its finance office, an approved and paid grant, a statement. */
export type Side = {
  hospital: { id: string; code: string };
  hospitalFinance: SignedIn;
  family: SignedIn;
  applicationId: string;
  documentId: string;
  disbursementId: string;
  statementId: string;
  entryId: string;
};

export type SecurityWorld = {
  admin: SignedIn;
  reviewer: SignedIn;
  finance: SignedIn;
  /** Two families at two hospitals: every scoped lookup of one side's objects by the other must be 404. */
  a: Side;
  b: Side;
  /** A caller of each role (the hospital_finance one belongs to side a). */
  byRole: Record<Role, SignedIn>;
};

/**
 * Builds, through the HTTP API, everything a scoped route can point at, twice: application (approved, tranche paid),
 * its documents, its disbursement, a bank statement of its hospital with one matched entry.
 */
export async function securityWorld(t: TestApp): Promise<SecurityWorld> {
  const admin = await signedInUser(t, 'admin');
  const reviewer = await signedInUser(t, 'reviewer');
  const finance = await signedInUser(t, 'fund_finance');
  await contribute(t, finance, 100_000_000);
  const side = async (): Promise<Side> => {
    const hospital = await createHospital(t, admin);
    const hospitalFinance = await signedInUser(t, 'hospital_finance', { hospitalId: hospital.id });
    const family = await signedInUser(t, 'applicant');
    const grant = await approvedGrant(t, { family, reviewer, hospital }, { amount: 2_000_000 });
    const [doc] = (await t.dataSource.query(`SELECT id FROM application_documents WHERE application_id = $1 ORDER BY created_at LIMIT 1`, [grant.id])) as {
      id: string;
    }[];
    const tranches = await t.http.get(`${API}/applications/${grant.id}/disbursements`).set(finance.auth).expect(200);
    const tranche = tranches.body.items[0] as { id: string; reference: string };
    await t.http
      .post(`${API}/disbursements/${tranche.id}/pay`)
      .set(finance.auth)
      .set('Idempotency-Key', randomUUID())
      .send({ paidOn: todayIn(FUND_TIME_ZONE), bankReference: `TRF-${randomUUID().slice(0, 8)}` })
      .expect(200);
    const statement = await t.http
      .post(`${API}/reconciliation/statements`)
      .set(hospitalFinance.auth)
      .attach('file', csvStatement([{ amount: '20000.00', remittance: `Sprout ${tranche.reference}`, accountServicerReference: `BK-${randomUUID().slice(0, 6)}` }]), {
        filename: 'statement.csv',
        contentType: 'text/csv',
      });
    if (statement.status !== 201) throw new Error(`statement import failed: ${statement.status} ${JSON.stringify(statement.body)}`);
    const detail = await t.http.get(`${API}/reconciliation/statements/${statement.body.id}`).set(hospitalFinance.auth).expect(200);
    return {
      hospital,
      hospitalFinance,
      family,
      applicationId: grant.id,
      documentId: doc.id,
      disbursementId: tranche.id,
      statementId: statement.body.id,
      entryId: detail.body.items[0].id,
    };
  };
  const a = await side();
  const b = await side();
  return {
    admin,
    reviewer,
    finance,
    a,
    b,
    byRole: { applicant: a.family, reviewer, fund_finance: finance, hospital_finance: a.hospitalFinance, admin },
  };
}

/** Path parameter values pointing at one side's objects, by the resource the path names. */
export function pathValuesFor(path: string, side: Side, world: Pick<SecurityWorld, 'admin'>): Record<string, string> {
  if (path.startsWith(`${API}/applications/{id}`)) return { id: side.applicationId, docId: side.documentId };
  if (path.startsWith(`${API}/disbursements/{id}`)) return { id: side.disbursementId };
  if (path.startsWith(`${API}/reconciliation/statements/{id}`)) return { id: side.statementId };
  if (path.startsWith(`${API}/reconciliation/entries/{id}`)) return { id: side.entryId };
  if (path.startsWith(`${API}/hospitals/{id}`)) return { id: side.hospital.id };
  if (path.startsWith(`${API}/users/{id}`)) return { id: world.admin.id };
  return {};
}

/** Row counts and content digests of the tables that hold what the service must never half-write. */
export const GUARDED_TABLES = [
  'users',
  'hospitals',
  'applications',
  'application_documents',
  'means_assessments',
  'means_policies',
  'fund_contributions',
  'fund_contribution_reversals',
  'journal_transactions',
  'ledger_entries',
  'ledger_grant_balances',
  'disbursements',
  'disbursement_payments',
  'decisions',
  'info_requests',
  'reviewer_conflicts',
  'bank_statements',
  'statement_entries',
  'notifications',
  'audit_events',
];

/** One digest per guarded table (existing ones only), so a test can assert a refused request changed nothing at all. */
export async function tableDigests(t: TestApp): Promise<Record<string, string>> {
  const present = (await t.dataSource.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1)`, [GUARDED_TABLES])) as {
    tablename: string;
  }[];
  // The worker marks notification rows sent on its own time: only their number is compared.
  // An order-free sum of row hashes: as exact as a sorted md5 for this purpose, and several times cheaper.
  const content = (name: string) => (name === 'notifications' ? `''` : `coalesce(sum(hashtext(r::text)::bigint), 0)::text`);
  const parts = present.map(({ tablename }) => `SELECT '${tablename}' AS name, count(*)::text || ':' || ${content(tablename)} AS digest FROM "${tablename}" r`);
  const rows = (await t.dataSource.query(parts.join(' UNION ALL '))) as { name: string; digest: string }[];
  return Object.fromEntries(rows.map((r) => [r.name, r.digest]));
}

export async function tableCounts(t: TestApp): Promise<Record<string, number>> {
  const digests = await tableDigests(t);
  return Object.fromEntries(Object.entries(digests).map(([name, d]) => [name, Number(d.split(':')[0])]));
}
