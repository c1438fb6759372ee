import { DEFAULT_MEANS_POLICY } from 'src/assessment/means-policy';
import { AuditContent } from 'src/audit/audit-hash';
import { AuditService } from 'src/audit/audit.service';
import { canonicalSql, shiftParams, slot, slotsOf } from 'src/audit/bulk-audit';
import { createHospital, signedInUser } from 'test/support/factories';
import { approvedGrant, camt053, csvStatement, Grant, grantWorld, GrantWorld, payTranche, StatementLine, tranchesOf as grantTranches } from 'test/support/grant-factory';
import { startTestApp, TestApp } from 'test/support/test-app';

const API = '/api/v1';

/**
 * The set-based settlement of an import (StatementSettlement): several tranches of one application in one file,
 * across batches; completion only when nothing is left; the audit events the per-match code wrote, chained.
 */
describe('Reconciliation: settling an import (e2e)', () => {
  let t: TestApp;
  let w: GrantWorld;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    w = await grantWorld(t, 100_000_000);
    const policy = {
      ...DEFAULT_MEANS_POLICY,
      tranches: { ...DEFAULT_MEANS_POLICY.tranches, hsct: [{ label: 'a', share: '0.25' }, { label: 'b', share: '0.25' }, { label: 'c', share: '0.5' }] },
    };
    await t.http.put(`${API}/policies/means-assessment`).set(w.admin.auth).send(policy).expect(200);
  });

  const upload = (file: Buffer, name = 'statement.xml') =>
    t.http.post(`${API}/reconciliation/statements`).set(w.hospitalFinance.auth).attach('file', file, { filename: name, contentType: 'application/octet-stream' });
  const tranchesOf = (grant: Grant) => grantTranches(t, w, grant);
  const pay = (id: string) => payTranche(t, w, id);
  const grantPaid = async (amount: number, paidTranches = 3) => {
    const grant = await approvedGrant(t, { ...w, family: await signedInUser(t, 'applicant') }, { amount });
    const tranches = await tranchesOf(grant);
    for (const tranche of tranches.slice(0, paidTranches)) await pay(tranche.id);
    return { grant, tranches };
  };
  const yuan = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
  const row = async (sql: string, params: unknown[]) => ((await t.dataSource.query(sql, params)) as Record<string, any>[])[0];
  /**
   * Uploads `lines` while a trigger runs `change` (SQL on the tranches) the first time the import stores entries —
   * after classifying their batch, before settling it: stands in for another transaction changing a tranche while the
   * file was still streaming.
   */
  const uploadRacing = async (change: string, lines: StatementLine[], name: string) => {
    await t.dataSource.query(`
      CREATE FUNCTION test_settlement_race() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${change};
        RETURN NULL;
      END $$`);
    await t.dataSource.query(`CREATE TRIGGER test_settlement_race AFTER INSERT ON statement_entries FOR EACH STATEMENT EXECUTE FUNCTION test_settlement_race()`);
    try {
      return await upload(csvStatement(lines), name);
    } finally {
      await t.dataSource.query(`DROP TRIGGER test_settlement_race ON statement_entries`);
      await t.dataSource.query(`DROP FUNCTION test_settlement_race()`);
    }
  };
  const filler = (n: number, tag: string): StatementLine[] => Array.from({ length: n }, (_, i) => ({ amount: '1.00', remittance: `deposit ${i}`, accountServicerReference: `${tag}-${i}` }));

  it('settles every tranche of a grant in one file, across batches, completes it once, and audits as before (chain verified)', async () => {
    const full = await grantPaid(4_000_000);
    const partial = await grantPaid(2_000_000, 2); // third tranche still scheduled: stays disbursing
    const [f1, f2, f3] = full.tranches;
    const [p1, p2] = partial.tranches;
    const entry = (d: Record<string, any>, tag: string): StatementLine => ({ amount: yuan(d.amount), remittance: `Sprout ${d.reference}`, accountServicerReference: tag });
    // 2,600 entries: the matches fall into the first, second and third batch of 1,000; p2 is repeated in a later batch.
    const lines = [entry(f1, 'A-1'), ...filler(1200, 'F1'), entry(f2, 'A-2'), entry(p1, 'A-3'), ...filler(900, 'F2'), entry(f3, 'A-4'), entry(p2, 'A-5'), ...filler(300, 'F3'), entry(p2, 'A-6')];
    const res = await upload(camt053(lines));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ entries: lines.length, matched: 5, duplicates: 1, unmatched: lines.length - 6, mismatched: 0 });

    for (const d of [f1, f2, f3, p1, p2]) {
      expect(await row(`SELECT status, reconciled_at IS NOT NULL AS at, version FROM disbursements WHERE id = $1`, [d.id])).toEqual({ status: 'reconciled', at: true, version: 3 });
      const entries = await t.dataSource.query(`SELECT status, match_kind, matched_by, reason FROM statement_entries WHERE disbursement_id = $1 ORDER BY position`, [d.id]);
      expect(entries[0]).toEqual({ status: 'matched', match_kind: 'auto', matched_by: w.hospitalFinance.id, reason: null });
    }
    const fullApp = await row(`SELECT status, version FROM applications WHERE id = $1`, [full.grant.id]);
    expect(fullApp.status).toBe('completed');
    expect((await row(`SELECT status FROM applications WHERE id = $1`, [partial.grant.id])).status).toBe('disbursing');
    expect((await row(`SELECT status FROM disbursements WHERE id = $1`, [partial.tranches[2].id])).status).toBe('scheduled');

    // The events the per-match code wrote: the statement, one per tranche, one per status change; in that order.
    const events = (await t.dataSource.query(
      `SELECT action, object_type, object_id, actor_id, actor_role, summary FROM audit_events WHERE id > (SELECT max(id) FROM audit_events WHERE action = 'disbursement.paid') ORDER BY id`,
    )) as Record<string, any>[];
    expect(events.map((e) => e.action)).toEqual([
      'reconciliation.statement_imported',
      ...Array(5).fill('disbursement.reconciled'),
      'application.completed',
    ]);
    const entryIds = new Map(
      ((await t.dataSource.query(`SELECT id, disbursement_id FROM statement_entries WHERE statement_id = $1 AND status = 'matched'`, [res.body.id])) as Record<string, string>[]).map(
        (e) => [e.disbursement_id, e.id],
      ),
    );
    const reconciled = events.filter((e) => e.action === 'disbursement.reconciled');
    expect(reconciled.map((e) => e.object_id)).toEqual([f1.id, f2.id, p1.id, f3.id, p2.id]); // file order
    for (const e of reconciled) {
      const d = [f1, f2, f3, p1, p2].find((x) => x.id === e.object_id)!;
      expect(e).toEqual({
        action: 'disbursement.reconciled',
        object_type: 'disbursement',
        object_id: d.id,
        actor_id: w.hospitalFinance.id,
        actor_role: 'hospital_finance',
        summary: { reference: d.reference, statementId: res.body.id, entryId: entryIds.get(d.id), matchKind: 'auto' },
      });
    }
    expect(events[events.length - 1]).toEqual({
      action: 'application.completed',
      object_type: 'application',
      object_id: full.grant.id,
      actor_id: w.hospitalFinance.id,
      actor_role: 'hospital_finance',
      summary: { from: 'disbursing', to: 'completed', version: fullApp.version, cause: 'complete' },
    });
    const verify = await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200);
    expect(verify.body).toMatchObject({ ok: true, firstBrokenId: null });
    expect(await row(`SELECT count(*)::int AS n FROM audit_pending`, [])).toEqual({ n: 0 });
  });

  it('completes a grant only when a later file reconciles its last open tranche; a mismatch or an unpaid tranche leaves it disbursing', async () => {
    const a = await grantPaid(4_000_000);
    const [a1, a2, a3] = a.tranches;
    const first = await upload(csvStatement([{ amount: yuan(a1.amount), remittance: a1.reference }]), 'first.csv');
    expect(first.body.matched).toBe(1);
    expect((await row(`SELECT status FROM applications WHERE id = $1`, [a.grant.id])).status).toBe('disbursing');

    const b = await grantPaid(2_000_000, 1);
    const res = await upload(csvStatement([
      { amount: yuan(a3.amount), remittance: a3.reference },
      { amount: yuan(b.tranches[0].amount), remittance: b.tranches[0].reference },
      { amount: yuan(a2.amount + 1), remittance: `wrong amount ${a2.reference}` },
    ]), 'second.csv');
    expect(res.body).toMatchObject({ matched: 2, mismatched: 1 });
    expect((await row(`SELECT status FROM applications WHERE id = $1`, [a.grant.id])).status).toBe('disbursing'); // a2 is still paid
    expect((await row(`SELECT status FROM applications WHERE id = $1`, [b.grant.id])).status).toBe('disbursing');

    const last = await upload(csvStatement([{ amount: yuan(a2.amount), remittance: a2.reference }]), 'third.csv');
    expect(last.body.matched).toBe(1);
    expect((await row(`SELECT status FROM applications WHERE id = $1`, [a.grant.id])).status).toBe('completed');
    const completions = await t.dataSource.query(`SELECT object_id FROM audit_events WHERE action = 'application.completed'`);
    expect(completions).toEqual([{ object_id: a.grant.id }]);
    const verify = await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200);
    expect(verify.body.ok).toBe(true);
  });

  it('a tranche that changed after its batch was classified keeps its entry unmatched with the reason; the rest settles', async () => {
    const a = await grantPaid(4_000_000);
    const [a1, a2] = a.tranches;
    // A payment returned by another transaction (a2 was still paid when its batch was classified).
    const res = await uploadRacing(
      `UPDATE disbursements SET status = 'returned', current_payment_id = NULL WHERE id = '${a2.id}' AND status = 'paid'`,
      [
        { amount: yuan(a1.amount), remittance: a1.reference },
        { amount: yuan(a2.amount), remittance: a2.reference },
        { amount: '1.00', remittance: 'no reference' },
      ],
      'race.csv',
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ entries: 3, matched: 1, unmatched: 2 });
    const entries = await t.dataSource.query(`SELECT status, reason, disbursement_id, match_kind FROM statement_entries WHERE statement_id = $1 ORDER BY position`, [res.body.id]);
    expect(entries.slice(0, 2)).toEqual([
      { status: 'matched', reason: null, disbursement_id: a1.id, match_kind: 'auto' },
      { status: 'unmatched', reason: 'the disbursement changed during the import (now returned)', disbursement_id: null, match_kind: null },
    ]);
    expect((await row(`SELECT status FROM disbursements WHERE id = $1`, [a1.id])).status).toBe('reconciled');
    expect((await row(`SELECT status FROM applications WHERE id = $1`, [a.grant.id])).status).toBe('disbursing');
    const reconciled = await t.dataSource.query(`SELECT object_id FROM audit_events WHERE action = 'disbursement.reconciled'`);
    expect(reconciled).toEqual([{ object_id: a1.id }]);
    // Unmatched CNY credits: hospital finance hears of them, as before.
    await t.mail.waitFor((m) => m.to.includes(w.hospitalFinance.email) && m.text.includes(res.body.id));
  });

  it('a tranche returned and paid again while the import ran is not settled by the credit judged against the returned payment', async () => {
    const a = await grantPaid(4_000_000);
    const [a1, a2] = a.tranches;
    // Fund finance recording a2's payment as returned and paying it again (a2 was paid, by its first payment, when
    // its batch was classified): the credit may be the returned payment's, and is no proof of the new one.
    const current = `(SELECT current_payment_id FROM disbursements WHERE id = '${a2.id}')`;
    const res = await uploadRacing(
      `IF NOT EXISTS (SELECT 1 FROM disbursement_payments WHERE disbursement_id = '${a2.id}' AND returned_at IS NOT NULL) THEN
         UPDATE disbursement_payments SET returned_at = now(), returned_on = paid_on, returned_by = paid_by, return_reason = 'account closed',
                return_journal_transaction_id = journal_transaction_id WHERE id = ${current};
         INSERT INTO disbursement_payments (disbursement_id, amount, paid_on, bank_reference, paid_by, journal_transaction_id)
           SELECT disbursement_id, amount, paid_on, 'PAID-AGAIN', paid_by, journal_transaction_id FROM disbursement_payments WHERE id = ${current};
         UPDATE disbursements SET current_payment_id = (SELECT id FROM disbursement_payments WHERE disbursement_id = '${a2.id}' AND returned_at IS NULL)
          WHERE id = '${a2.id}';
       END IF`,
      [
        { amount: yuan(a1.amount), remittance: a1.reference },
        { amount: yuan(a2.amount), remittance: a2.reference },
        { amount: '1.00', remittance: 'no reference' },
      ],
      'paid-again.csv',
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ entries: 3, matched: 1, unmatched: 2 });
    const entries = await t.dataSource.query(`SELECT status, reason, disbursement_id FROM statement_entries WHERE statement_id = $1 ORDER BY position`, [res.body.id]);
    expect(entries.slice(0, 2)).toEqual([
      { status: 'matched', reason: null, disbursement_id: a1.id },
      { status: 'unmatched', reason: 'the disbursement changed during the import (now paid)', disbursement_id: null },
    ]);
    expect(await row(`SELECT d.status, p.bank_reference FROM disbursements d JOIN disbursement_payments p ON p.id = d.current_payment_id WHERE d.id = $1`, [a2.id])).toEqual({
      status: 'paid',
      bank_reference: 'PAID-AGAIN',
    });
    expect((await row(`SELECT status FROM applications WHERE id = $1`, [a.grant.id])).status).toBe('disbursing');
  });

  it('a tranche reconciled by someone else while the import ran makes its entry a duplicate of it (a possible double payment)', async () => {
    const a = await grantPaid(4_000_000);
    const [a1, a2] = a.tranches;
    // Fund finance matching a2 by hand to another entry (a2 was still paid when its batch was classified).
    const res = await uploadRacing(
      `UPDATE disbursements SET status = 'reconciled', reconciled_at = now() WHERE id = '${a2.id}' AND status = 'paid'`,
      [
        { amount: yuan(a1.amount), remittance: a1.reference },
        { amount: yuan(a2.amount), remittance: a2.reference },
        { amount: '-1.00', remittance: 'bank fee' }, // stored at once (ignored, a debit): what sets off the trigger
      ],
      'manual-race.csv',
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ entries: 3, matched: 1, duplicates: 1, ignored: 1, mismatched: 0 });
    const entries = await t.dataSource.query(`SELECT status, reason, disbursement_id, match_kind FROM statement_entries WHERE statement_id = $1 ORDER BY position`, [res.body.id]);
    expect(entries.slice(0, 2)).toEqual([
      { status: 'matched', reason: null, disbursement_id: a1.id, match_kind: 'auto' },
      { status: 'duplicate', reason: 'the disbursement was reconciled during the import', disbursement_id: a2.id, match_kind: null },
    ]);
    const reconciled = await t.dataSource.query(`SELECT object_id FROM audit_events WHERE action = 'disbursement.reconciled'`);
    expect(reconciled).toEqual([{ object_id: a1.id }]);
    // A second transfer for a2 (its hand-matched entry was another one): a possible double payment, as when the file
    // comes after the match, and hospital finance hears of it.
    const exceptions = await t.dataSource.query(`SELECT (context->>'duplicates')::int AS duplicates FROM notifications WHERE event = 'reconciliation.exceptions'`);
    expect(exceptions).toEqual([{ duplicates: 1 }]);
  });

  it('chains more events than one chaining statement holds, in order, twice in one transaction (chain verified)', async () => {
    const audit = t.app.get(AuditService);
    const content = (objectId: string, n: string): AuditContent => ({
      occurredAt: '2026-11-22T03:00:00.000Z',
      actorId: w.admin.id,
      actorRole: 'admin',
      action: 'test.bulk',
      objectType: 'test',
      objectId,
      summary: { n },
      requestId: null,
    });
    const c = canonicalSql(content(slot('g::text'), slot('g')), slotsOf('g::text', 'g'));
    const events = (count: number) => ({
      select: `SELECT $1::timestamptz, $2::uuid, 'admin', 'test.bulk', 'test', g::text, jsonb_build_object('n', g), NULL::text, ${shiftParams(c.sql, 2)}
                 FROM generate_series(1, ${count}) AS s(g) ORDER BY s.g`,
      params: ['2026-11-22T03:00:00.000Z', w.admin.id, ...c.params],
    });
    const before = Number((await row(`SELECT count(*) FROM audit_events`, [])).count);
    // 20,000 events per chaining statement: the first call needs two of them, the second starts where the first ended.
    await t.dataSource.transaction(async (tx) => {
      expect(await audit.recordMany(tx, [events(20_003)])).toBe(20_003);
      expect(await audit.recordMany(tx, [events(2), { actor: null, action: 'test.single', objectType: 'test', objectId: 'last' }])).toBe(3);
    });
    const added = await t.dataSource.query(`SELECT action, object_id FROM audit_events ORDER BY id OFFSET $1`, [before]);
    expect(added).toHaveLength(20_006);
    expect(added.slice(19_999, 20_006).map((e: { object_id: string }) => e.object_id)).toEqual(['20000', '20001', '20002', '20003', '1', '2', 'last']);
    expect(added.slice(0, 20_003).every((e: { object_id: string }, i: number) => e.object_id === String(i + 1))).toBe(true);
    const verify = await t.http.get(`${API}/audit/verify`).set(w.admin.auth).expect(200);
    expect(verify.body).toMatchObject({ ok: true, firstBrokenId: null });
  });

  it("the database refuses an entry filed under another hospital than its statement's (one foreign key on both)", async () => {
    const full = await grantPaid(4_000_000, 1);
    const res = await upload(camt053([{ amount: yuan(full.tranches[0].amount), remittance: `Sprout ${full.tranches[0].reference}`, accountServicerReference: 'H-1' }]));
    expect(res.status).toBe(201);
    const other = await createHospital(t, w.admin);
    const copy = (hospitalId: string) =>
      t.dataSource.query(
        `INSERT INTO statement_entries (id, statement_id, hospital_id, position, location, booking_date, amount, credit_debit, currency, remittance, status)
         SELECT gen_random_uuid(), statement_id, $2, position + 1, location, booking_date, amount, credit_debit, currency, remittance, 'unmatched'
           FROM statement_entries WHERE statement_id = $1`,
        [res.body.id, hospitalId],
      );
    await expect(copy(other.id)).rejects.toMatchObject({ code: '23503', constraint: 'statement_entries_statement_hospital_fkey' });
    await expect(copy('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: '23503', constraint: 'statement_entries_statement_hospital_fkey' });
    await copy(w.hospital.id); // its own hospital: accepted
    expect(await row(`SELECT count(*)::int AS n FROM statement_entries WHERE statement_id = $1`, [res.body.id])).toEqual({ n: 2 });
  });
});
