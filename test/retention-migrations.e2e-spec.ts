import { runMigrations } from 'src/database/database-bootstrap';
import { migratedUntil, scratchDatabase } from 'test/support/scratch-database';

describe('Migration EditAssessmentsReplaced on the assessments earlier releases added per edit', () => {
  const database = scratchDatabase('editassess');

  it('keeps per application its latest edit\'s assessment and every one a submission took, and deletes the edits\' before it', async () => {
    const dataSource = database();
    await migratedUntil(dataSource, 'EditAssessmentsReplaced');
    const [{ id: family }] = await dataSource.query(`INSERT INTO users (email, full_name, role) VALUES ('family@example.org', 'F', 'applicant') RETURNING id`);
    const application = async (reference: string) =>
      ((await dataSource.query(`INSERT INTO applications (reference, applicant_id, status) VALUES ($1, $2, 'draft') RETURNING id`, [reference, family])) as { id: string }[])[0].id;
    const assessed = async (applicationId: string, trigger: string) =>
      ((await dataSource.query(
        `INSERT INTO means_assessments (application_id, policy_version, trigger, complete, inputs) VALUES ($1, 1, $2, false, '{}') RETURNING id`,
        [applicationId, trigger],
      )) as { id: string }[])[0].id;

    // Edited three times, submitted, asked for information, edited twice, resubmitted, edited once more.
    const resubmitted = await application('SPR-2026-000001');
    const history = [];
    for (const trigger of ['created', 'updated', 'updated', 'submitted', 'updated', 'updated', 'submitted', 'updated']) history.push(await assessed(resubmitted, trigger));
    // A draft edited twice; another only created.
    const draft = await application('SPR-2026-000002');
    const draftHistory = [await assessed(draft, 'created'), await assessed(draft, 'updated'), await assessed(draft, 'updated')];
    const created = await application('SPR-2026-000003');
    const onlyCreated = await assessed(created, 'created');

    expect(await runMigrations(dataSource)).toEqual(expect.arrayContaining([expect.stringMatching(/^EditAssessmentsReplaced/)]));
    const left = (await dataSource.query(`SELECT id FROM means_assessments ORDER BY id`)) as { id: string }[];
    expect(left.map((r) => r.id)).toEqual([history[3], history[6], history[7], draftHistory[2], onlyCreated]);
  });
});

describe('Migration StatementTextsMinimised on entries earlier releases stored with their texts', () => {
  const database = scratchDatabase('stmttexts');

  it('blanks the texts of ignored entries naming no tranche, and keeps those of every entry naming, matched to or about one', async () => {
    const dataSource = database();
    await migratedUntil(dataSource, 'StatementTextsMinimised');
    const [{ id: staff }] = await dataSource.query(`INSERT INTO users (email, full_name, role) VALUES ('admin@example.org', 'A', 'admin') RETURNING id`);
    const [{ id: hospital }] = await dataSource.query(
      `INSERT INTO hospitals (name, code, bank_name, bank_account_name, bank_account_number) VALUES ('H', 'H1', 'B', 'H', '6222000011112222') RETURNING id`,
    );
    const [{ id: statement }] = await dataSource.query(
      `INSERT INTO bank_statements (hospital_id, format, imported_by) VALUES ($1, 'camt.053', $2) RETURNING id`,
      [hospital, staff],
    );
    let position = 0;
    type Texts = { status: string; remittance: string; refs?: string[]; counterparty?: string | null; info?: string | null; reference?: string | null; e2e?: string | null };
    const entry = async ({ status, remittance, refs = [], counterparty = 'Zhang San', info = null, reference = null, e2e = null }: Texts) =>
      ((await dataSource.query(
        `INSERT INTO statement_entries (id, statement_id, hospital_id, position, location, booking_date, amount, credit_debit, currency, remittance,
                                        structured_references, counterparty, additional_info, reference, end_to_end_id, status)
         VALUES (gen_random_uuid(), $1, $2, $3, 'Stmt[1]/Ntry[1]', '2026-09-01', 100, 'DBIT', 'CNY', $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
        [statement, hospital, position++, remittance, JSON.stringify(refs), counterparty, info, reference, e2e, status],
      )) as { id: string }[])[0].id;

    const bill = await entry({ status: 'ignored', remittance: 'Ward 3 bill, patient Li Si', refs: ['INV-77'], info: 'cash deposit' });
    const salary = await entry({ status: 'ignored', remittance: '', counterparty: 'Payroll' });
    const namesOne = await entry({ status: 'ignored', remittance: 'returned SPR-2026-000001-1', reference: 'SPR-2026-000001-1' });
    const namesTwo = await entry({ status: 'ignored', remittance: 'batch', info: 'SPR-2026-000001-1 SPR-2026-000002-1' });
    const fullwidth = await entry({ status: 'ignored', remittance: '退款 ＳＰＲ－２０２６－０００００３－１' });
    const inEndToEnd = await entry({ status: 'ignored', remittance: 'refund', e2e: 'spr-2026-000004-1' });
    const inRefs = await entry({ status: 'ignored', remittance: 'refund', refs: ['SPR-2026-000005-1'] });
    const unmatched = await entry({ status: 'unmatched', remittance: 'donation from a relative' });

    expect(await runMigrations(dataSource)).toEqual(expect.arrayContaining([expect.stringMatching(/^StatementTextsMinimised/)]));
    const rows = (await dataSource.query(`SELECT id, remittance, structured_references, counterparty, additional_info, end_to_end_id FROM statement_entries`)) as {
      id: string;
      remittance: string;
      structured_references: string[];
      counterparty: string | null;
      additional_info: string | null;
      end_to_end_id: string | null;
    }[];
    const byId = Object.fromEntries(rows.map(({ id, ...texts }) => [id, texts]));
    const blank = { remittance: '', structured_references: [], counterparty: null, additional_info: null, end_to_end_id: null };
    expect(byId[bill]).toEqual(blank);
    expect(byId[salary]).toEqual(blank);
    expect(byId[namesOne].remittance).toBe('returned SPR-2026-000001-1');
    expect(byId[namesTwo]).toMatchObject({ remittance: 'batch', additional_info: 'SPR-2026-000001-1 SPR-2026-000002-1', counterparty: 'Zhang San' });
    expect(byId[fullwidth].remittance).toBe('退款 ＳＰＲ－２０２６－０００００３－１');
    expect(byId[inEndToEnd]).toMatchObject({ remittance: 'refund', end_to_end_id: 'spr-2026-000004-1' });
    expect(byId[inRefs]).toMatchObject({ remittance: 'refund', structured_references: ['SPR-2026-000005-1'] });
    expect(byId[unmatched]).toMatchObject({ remittance: 'donation from a relative', counterparty: 'Zhang San' });
  });
});

describe('Migration GrantsNameTheChild on decisions written before it', () => {
  const database = scratchDatabase('grantschild');

  it("gives a grant's decision its child's national-id hash, and no other decision", async () => {
    const dataSource = database();
    await migratedUntil(dataSource, 'GrantsNameTheChild');
    const [{ id: family }] = await dataSource.query(`INSERT INTO users (email, full_name, role) VALUES ('family@example.org', 'F', 'applicant') RETURNING id`);
    const [{ id: reviewer }] = await dataSource.query(`INSERT INTO users (email, full_name, role) VALUES ('reviewer@example.org', 'R', 'reviewer') RETURNING id`);
    const [{ id: other }] = await dataSource.query(`INSERT INTO users (email, full_name, role) VALUES ('second@example.org', 'S', 'reviewer') RETURNING id`);
    const application = async (reference: string, hash: string | null) =>
      ((await dataSource.query(
        `INSERT INTO applications (reference, applicant_id, status, submitted_at, first_submitted_at, patient_national_id_hash, patient_national_id_enc)
         VALUES ($1, $2, 'approved', now(), now(), $3::text, CASE WHEN $3::text IS NULL THEN NULL ELSE 'sealed' END) RETURNING id`,
        [reference, family, hash],
      )) as { id: string }[])[0].id;
    const decided = (applicationId: string, kind: string, by = reviewer) =>
      dataSource.query(
        `INSERT INTO decisions (application_id, kind, reviewer_id, reviewer_role, from_status, to_status, amount, reason)
         VALUES ($1, $2, $3, 'reviewer', 'under_review', 'approved', CASE WHEN $2 = 'rejection' THEN NULL ELSE 100 END, CASE WHEN $2 = 'rejection' THEN 'no' END)`,
        [applicationId, kind, by],
      );
    const single = await application('SPR-2026-000001', 'a'.repeat(64));
    await decided(single, 'approval');
    const fourEyes = await application('SPR-2026-000002', 'a'.repeat(64));
    await decided(fourEyes, 'first_approval');
    await decided(fourEyes, 'second_approval', other);
    const refused = await application('SPR-2026-000003', 'a'.repeat(64));
    await decided(refused, 'rejection');
    const noId = await application('SPR-2026-000004', null);
    await decided(noId, 'approval');

    expect(await runMigrations(dataSource)).toEqual(expect.arrayContaining([expect.stringMatching(/^GrantsNameTheChild/)]));
    const rows = (await dataSource.query(`SELECT a.reference, d.kind, d.patient_national_id_hash IS NOT NULL AS named FROM decisions d JOIN applications a ON a.id = d.application_id ORDER BY a.reference, d.kind`)) as object[];
    expect(rows).toEqual([
      { reference: 'SPR-2026-000001', kind: 'approval', named: true },
      { reference: 'SPR-2026-000002', kind: 'first_approval', named: false },
      { reference: 'SPR-2026-000002', kind: 'second_approval', named: true },
      { reference: 'SPR-2026-000003', kind: 'rejection', named: false },
      { reference: 'SPR-2026-000004', kind: 'approval', named: false },
    ]);
  });
});
