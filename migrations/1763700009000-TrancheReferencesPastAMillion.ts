import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Application serials are padded to six digits and simply grow past them (SPR-2031-1000000); the tranche reference
 * check allowed exactly six, so the millionth application could never be paid. Now 6 digits, or 7–9 without a
 * leading zero — the same rule as trancheReference() and the statement matcher.
 */
export class TrancheReferencesPastAMillion1763700009000 implements MigrationInterface {
  name = 'TrancheReferencesPastAMillion1763700009000';

  async up(q: QueryRunner): Promise<void> {
    await dropReferenceCheck(q);
    await q.query(`ALTER TABLE disbursements ADD CONSTRAINT disbursements_reference_check
      CHECK (reference ~ '^SPR-[0-9]{4}-([0-9]{6}|[1-9][0-9]{6,8})-[0-9]{1,4}$')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropReferenceCheck(q);
    await q.query(`ALTER TABLE disbursements ADD CONSTRAINT disbursements_reference_check CHECK (reference ~ '^SPR-[0-9]{4}-[0-9]{6}-[0-9]{1,4}$') NOT VALID`);
  }
}

/** The original check was declared inline, so its name is PostgreSQL's choice: find it by what it checks. */
async function dropReferenceCheck(q: QueryRunner): Promise<void> {
  const rows = (await q.query(`
    SELECT conname FROM pg_constraint
     WHERE conrelid = 'disbursements'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%reference ~%'`)) as { conname: string }[];
  for (const { conname } of rows) await q.query(`ALTER TABLE disbursements DROP CONSTRAINT "${conname}"`);
}
