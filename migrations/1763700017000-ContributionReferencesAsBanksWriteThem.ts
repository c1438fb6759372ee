import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A donation's reference compared as banks write it (letter case, spaces and hyphens aside), so that the same receipt
 * typed twice ("ICBC-20260915-000123", "icbc 20260915 000123") is one donation, not two that inflate the fund's
 * available balance. Not unique: rows recorded before may already repeat each other so; new ones are refused in code
 * under a lock on the normalised reference (ContributionsService), looked up through this index.
 */
export class ContributionReferencesAsBanksWriteThem1763700017000 implements MigrationInterface {
  name = 'ContributionReferencesAsBanksWriteThem1763700017000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX fund_contributions_reference_normalized_idx ON fund_contributions ((upper(regexp_replace(reference, '[[:space:]-]', '', 'g'))))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX fund_contributions_reference_normalized_idx`);
  }
}
