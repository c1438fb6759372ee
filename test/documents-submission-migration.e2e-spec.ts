import { runMigrations } from 'src/database/database-bootstrap';
import { migratedUntil, scratchDatabase } from 'test/support/scratch-database';

const MIGRATIONS = ['DocumentsRecordTheirSubmission', 'DocumentsOfEarlierSubmissions'];

describe('Migrations DocumentsRecordTheirSubmission and DocumentsOfEarlierSubmissions on documents uploaded before them', () => {
  const database = scratchDatabase('docsubmitted');

  const T1 = '2026-09-01T10:00:00.000Z';
  const T2 = '2026-09-03T10:00:00.000Z';
  const at = (time: string, minutes: number) => new Date(Date.parse(time) + minutes * 60_000).toISOString();

  it('marks as not submitted only what no submission took: by the audit trail where the upload was audited, else by the times, as the old rule did', async () => {
    const dataSource = database();
    await migratedUntil(dataSource, ...MIGRATIONS);

    const [{ id: family }] = await dataSource.query(`INSERT INTO users (email, full_name, role) VALUES ('family@example.org', 'F', 'applicant') RETURNING id`);
    const application = async (reference: string, status: string, firstSubmittedAt: string | null, submittedAt: string | null) =>
      ((await dataSource.query(
        `INSERT INTO applications (reference, applicant_id, status, first_submitted_at, submitted_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [reference, family, status, firstSubmittedAt, submittedAt],
      )) as { id: string }[])[0].id;
    const document = async (applicationId: string, createdAt: string) =>
      ((await dataSource.query(
        `INSERT INTO application_documents (application_id, type, file_name, content_type, size, sha256, storage_key, uploaded_by, created_at)
         VALUES ($1, 'other', 'scan.pdf', 'application/pdf', 10, repeat('a', 64), gen_random_uuid()::text, $2, $3) RETURNING id`,
        [applicationId, family, createdAt],
      )) as { id: string }[])[0].id;
    // In commit order, as the chain numbers them; the times are the writing replicas' clocks.
    const audited = (applicationId: string, action: string, occurredAt: string, summary: object = {}) =>
      dataSource.query(
        `INSERT INTO audit_events (occurred_at, action, object_type, object_id, summary, prev_hash, hash) VALUES ($1, $2, 'application', $3, $4, repeat('0', 64), repeat('0', 64))`,
        [occurredAt, action, applicationId, JSON.stringify(summary)],
      );

    // Submitted at T1, resubmitted at T2, asked again; its uploads audited, written by replicas whose clocks disagree.
    const viaApi = await application('SPR-2026-000001', 'info_requested', T1, T2);
    const beforeFirst = await document(viaApi, at(T2, 1)); // a fast clock: later than both submissions
    await audited(viaApi, 'document.uploaded', at(T2, 1), { documentId: beforeFirst });
    await audited(viaApi, 'application.submitted', T1);
    const beforeSecond = await document(viaApi, at(T1, -1)); // a slow clock: earlier than the first submission
    await audited(viaApi, 'document.uploaded', at(T1, -1), { documentId: beforeSecond });
    await audited(viaApi, 'application.submitted', T2);
    const answering = await document(viaApi, at(T1, 1));
    await audited(viaApi, 'document.uploaded', at(T1, 1), { documentId: answering });

    // The same history written without an audit trail (a seed): the times are all there is.
    const seeded = await application('SPR-2026-000002', 'info_requested', T1, T2);
    const seededFirst = await document(seeded, at(T1, -1));
    const seededSecond = await document(seeded, at(T1, 1));
    const seededAnswering = await document(seeded, at(T2, 1));
    const draft = await application('SPR-2026-000003', 'draft', null, null);
    const inDraft = await document(draft, at(T1, -1));
    // Decided since: whatever its clock wrote, a document of an application past info_requested went with a submission.
    const approved = await application('SPR-2026-000004', 'approved', T1, T1);
    const skewed = await document(approved, at(T1, 5));

    expect(await runMigrations(dataSource)).toEqual(expect.arrayContaining(MIGRATIONS.map((name) => expect.stringMatching(new RegExp(`^${name}`)))));
    const rows = (await dataSource.query(`SELECT id, submitted FROM application_documents`)) as { id: string; submitted: boolean }[];
    expect(Object.fromEntries(rows.map((r) => [r.id, r.submitted]))).toEqual({
      [beforeFirst]: true, // the audit trail wins over a fast clock
      [beforeSecond]: true,
      [answering]: false,
      [seededFirst]: true,
      [seededSecond]: true,
      [seededAnswering]: false,
      [inDraft]: false,
      [skewed]: true,
    });
    // A document written from now on is not submitted until a submit says so.
    const later = await document(draft, at(T2, 0));
    expect(await dataSource.query(`SELECT submitted FROM application_documents WHERE id = $1`, [later])).toEqual([{ submitted: false }]);
  });
});
