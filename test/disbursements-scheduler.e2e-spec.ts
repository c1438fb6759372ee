import { trancheInsertError, TrancheSchedulerService } from 'src/disbursements/tranche-scheduler.service';
import { DEFAULT_MEANS_POLICY } from 'src/assessment/means-policy';
import { approvedGrant, grantWorld, GrantWorld } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

describe('Disbursements: tranches scheduled at approval (e2e)', () => {
  let t: TestApp;
  let world: GrantWorld;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    world = await grantWorld(t);
  });

  const tranches = (applicationId: string) =>
    t.dataSource.query(
      `SELECT tranche_number, tranche_count, label, reference, amount::int AS amount, status, payee_bank_name, payee_account_name, payee_account_number
         FROM disbursements WHERE application_id = $1 ORDER BY tranche_number`,
      [applicationId],
    );

  it('schedules one tranche for the full amount by default, payee = the hospital account, reference <application>-1', async () => {
    const grant = await approvedGrant(t, world, { amount: 2_345_678 });
    const [hospital] = await t.dataSource.query(`SELECT bank_name, bank_account_name, bank_account_number FROM hospitals WHERE id = $1`, [world.hospital.id]);
    expect(await tranches(grant.id)).toEqual([
      {
        tranche_number: 1,
        tranche_count: 1,
        label: 'full',
        reference: `${grant.reference}-1`,
        amount: 2_345_678,
        status: 'scheduled',
        payee_bank_name: hospital.bank_name,
        payee_account_name: hospital.bank_account_name,
        payee_account_number: hospital.bank_account_number,
      },
    ]);
  });

  it('splits by the current policy for the plan, the parts summing exactly to the approved amount', async () => {
    const policy = { ...DEFAULT_MEANS_POLICY, tranches: { ...DEFAULT_MEANS_POLICY.tranches, ist: [{ label: 'start', share: '0.6' }, { label: 'end', share: '0.4' }] } };
    await t.http.put('/api/v1/policies/means-assessment').set(world.admin.auth).send(policy).expect(200);
    const grant = await approvedGrant(t, world, { amount: 1_000_001, treatmentPlan: 'ist' });
    const rows = await tranches(grant.id);
    expect(rows.map((r: { reference: string; amount: number; label: string }) => [r.reference, r.label, r.amount])).toEqual([
      [`${grant.reference}-1`, 'start', 600_001],
      [`${grant.reference}-2`, 'end', 400_000],
    ]);
  });

  it('refuses to schedule an application twice, by constraint, as a 409', async () => {
    const grant = await approvedGrant(t, world);
    const scheduler = t.app.get(TrancheSchedulerService);
    const actor = { id: world.reviewer.id, email: world.reviewer.email, role: 'reviewer' as const, hospitalId: null, sessionId: 's', emailVerified: true };
    const [payee] = await t.dataSource.query(
      `SELECT id, bank_name AS "bankName", bank_account_name AS "bankAccountName", bank_account_number AS "bankAccountNumber" FROM hospitals WHERE id = $1`,
      [world.hospital.id],
    );
    const input = { applicationId: grant.id, reference: grant.reference, hospitalId: world.hospital.id, treatmentPlan: 'hsct' as const, amount: 100, actor };
    const insert = scheduler.insertOf(scheduler.plan(input, payee, { version: 1, policy: DEFAULT_MEANS_POLICY, createdBy: null, createdAt: new Date() }));
    const error = await t.dataSource.query(insert.sql, insert.params).catch((e: unknown) => e);
    expect(trancheInsertError(error)).toMatchObject({ problem: { status: 409 } });
  });
});
