import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * What a reference's key ignores, as code point ranges (Unicode 17): white space (ASCII, and Unicode's separators Z),
 * dashes (Pd, the minus sign U+2212, and U+30FC, which a Japanese or Chinese IME types for a hyphen), and format
 * characters (Cf: zero-width spaces, direction marks, soft hyphens; new references may not hold them, older ones did).
 * Listed, not `\p{…}`: PostgreSQL's regular expressions have no Unicode properties. test/fund-references checks the list
 * against Node's tables.
 */
const WHITE_SPACE = '0009-000D 0020 00A0 1680 2000-200A 2028-2029 202F 205F 3000';
const DASHES = '002D 058A 05BE 1400 1806 2010-2015 2E17 2E1A 2E3A-2E3B 2E40 2E5D 301C 3030 30A0 FE31-FE32 FE58 FE63 FF0D 10D6E 10EAD 2212 30FC';
const FORMAT =
  '00AD 0600-0605 061C 06DD 070F 0890-0891 08E2 180E 200B-200F 202A-202E 2060-2064 2066-206F FEFF FFF9-FFFB 110BD 110CD 13430-1343F 1BCA0-1BCA3 1D173-1D17A E0001 E0020-E007F';

const escaped = (hex: string) => (hex.length <= 4 ? `\\u${hex.padStart(4, '0')}` : `\\U${hex.padStart(8, '0')}`);
const IGNORED = `[${[WHITE_SPACE, DASHES, FORMAT]
  .join(' ')
  .split(' ')
  .map((range) => range.split('-').map(escaped).join('-'))
  .join('')}]`;

/**
 * A donation's receipt is recorded once, however its reference was typed: pasted from a bank page (no-break spaces),
 * in a Chinese IME (full-width letters, digits and hyphens), with Unicode hyphens, in other letter case. Recorded twice,
 * one receipt was two donations, and grants were committed against money that never arrived.
 *
 * The key is computed in one place, contribution_reference_key(): NFKC, without what IGNORED lists, ASCII letters in
 * upper case (NFKC has made full-width letters ASCII; other scripts' case mapping depends on the collation and the C
 * library, which an index must not). A trigger stores it on every insert as `normalized_reference`, whoever inserts,
 * and a unique index refuses a second contribution of the same receipt — unless every earlier one was reversed:
 * `reference_seq` counts them, so a receipt recorded with a wrong amount can be reversed and recorded again.
 *
 * Rows recorded before may already repeat a receipt. The earliest of them (created_at, then id) keeps the key; the later
 * ones are left without one (`normalized_reference IS NULL`), so this migration never fails on them: they are listed by
 * that query, for fund finance to reverse.
 */
export class ContributionReferenceKeys1763700021100 implements MigrationInterface {
  name = 'ContributionReferenceKeys1763700021100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION contribution_reference_key(reference text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN upper(regexp_replace(normalize(reference, NFKC), '${IGNORED}', '', 'g') COLLATE "C")`);

    await q.query(`ALTER TABLE fund_contributions ADD COLUMN normalized_reference text, ADD COLUMN reference_seq integer NOT NULL DEFAULT 0`);
    // The table is append-only; its trigger is off for this backfill alone, inside this migration's transaction, which
    // holds the table exclusively until it commits with the trigger on again.
    await q.query(`ALTER TABLE fund_contributions DISABLE TRIGGER fund_contributions_append_only`);
    await q.query(`
      UPDATE fund_contributions c SET normalized_reference = first.key
        FROM (SELECT DISTINCT ON (contribution_reference_key(reference)) id, contribution_reference_key(reference) AS key
                FROM fund_contributions
               ORDER BY contribution_reference_key(reference), created_at, id) first
       WHERE c.id = first.id`);
    await q.query(`ALTER TABLE fund_contributions ENABLE TRIGGER fund_contributions_append_only`);
    await q.query(`CREATE UNIQUE INDEX fund_contributions_normalized_reference_key ON fund_contributions (normalized_reference, reference_seq)`);

    await q.query(`
      CREATE FUNCTION fund_contributions_key_reference() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.normalized_reference := contribution_reference_key(NEW.reference);
        NEW.reference_seq := (SELECT count(*) FROM fund_contribution_reversals r JOIN fund_contributions c ON c.id = r.contribution_id
                               WHERE c.normalized_reference = NEW.normalized_reference);
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER fund_contributions_keyed BEFORE INSERT ON fund_contributions FOR EACH ROW EXECUTE FUNCTION fund_contributions_key_reference()`);

    // Superseded: the exact reference is one of the ways a receipt is written, and may be recorded again once reversed.
    await q.query(`ALTER TABLE fund_contributions DROP CONSTRAINT fund_contributions_reference_key`);
    await q.query(`DROP INDEX fund_contributions_reference_normalized_idx`);
  }

  /** Refused (by the UNIQUE constraint) once a receipt was recorded again with the very same reference after a reversal. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX fund_contributions_reference_normalized_idx ON fund_contributions ((upper(regexp_replace(reference, '[[:space:]-]', '', 'g'))))`);
    await q.query(`ALTER TABLE fund_contributions ADD CONSTRAINT fund_contributions_reference_key UNIQUE (reference)`);
    await q.query(`DROP TRIGGER fund_contributions_keyed ON fund_contributions`);
    await q.query(`DROP FUNCTION fund_contributions_key_reference()`);
    await q.query(`DROP INDEX fund_contributions_normalized_reference_key`);
    await q.query(`ALTER TABLE fund_contributions DROP COLUMN normalized_reference, DROP COLUMN reference_seq`);
    await q.query(`DROP FUNCTION contribution_reference_key(text)`);
  }
}
