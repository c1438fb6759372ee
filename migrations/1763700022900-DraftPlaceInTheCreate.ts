import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `take_draft_place(applicant, new_draft, most)`, called by the create's one writing statement: takes the account's
 * draft lock (an advisory lock held to the statement's commit), then counts the account's other never-submitted
 * drafts and raises SQLSTATE SPD01 (the count in DETAIL) if there are `most` already, which undoes the statement's
 * writes. Without the lock, 40 parallel creates against a limit of 2 made 14 drafts. The count is read after the lock
 * is granted, by a VOLATILE function whose statement takes a fresh snapshot, so it sees the draft the lock's previous
 * holder committed; it leaves out the new draft, which the same statement may or may not have inserted yet.
 */
export class DraftPlaceInTheCreate1763700022900 implements MigrationInterface {
  name = 'DraftPlaceInTheCreate1763700022900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION take_draft_place(applicant uuid, new_draft uuid, most int) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
      DECLARE open int;
      BEGIN
        -- Two int keys: a key space apart from the single bigint keys of the migrations' and the sweep's locks.
        PERFORM pg_advisory_xact_lock(727010, hashtext(applicant::text));
        SELECT count(*) INTO open FROM applications
         WHERE applicant_id = applicant AND status = 'draft' AND first_submitted_at IS NULL AND id <> new_draft;
        IF open >= most THEN
          RAISE EXCEPTION 'the account has % drafts it never submitted', open USING ERRCODE = 'SPD01', DETAIL = open::text;
        END IF;
        RETURN open;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION take_draft_place(uuid, uuid, int)`);
  }
}
