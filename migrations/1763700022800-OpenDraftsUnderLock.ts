import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `open_drafts_locked(applicant)`: how many applications the account started and never submitted, counted once this
 * transaction holds the account's draft lock (an advisory lock held to COMMIT). Creates of one account are serialised
 * by it, so MAX_OPEN_DRAFTS_PER_ACCOUNT holds under parallel requests: without it, 40 creates at once against a limit of
 * 2 made 14 drafts. A function because the count must be read after the lock is granted: a plain statement reads with
 * the snapshot it took before waiting, and would miss the draft the lock's previous holder just committed; a VOLATILE
 * function's statements each take a fresh one.
 */
export class OpenDraftsUnderLock1763700022800 implements MigrationInterface {
  name = 'OpenDraftsUnderLock1763700022800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION open_drafts_locked(applicant uuid) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        -- Two int keys: a key space apart from the single bigint keys of the migrations' and the sweep's locks.
        PERFORM pg_advisory_xact_lock(727010, hashtext(applicant::text));
        RETURN (SELECT count(*) FROM applications WHERE applicant_id = applicant AND status = 'draft' AND first_submitted_at IS NULL);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION open_drafts_locked(uuid)`);
  }
}
