import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Since this release an ignored statement entry that names no tranche is stored without its texts (remittance,
 * structured references, counterparty, additional information): most of a hospital's statement is its other business,
 * other patients' families paying their bills, and who paid whom for what is none of the fund's. Entries imported by
 * earlier releases are blanked here alike.
 *
 * "Names no tranche" is decided in SQL, more widely than the import's reference pattern: an entry keeps its texts
 * when any of them holds "spr" in any case or width (NFKC, as the pattern reads them), so no entry that names a
 * tranche is blanked, and an odd one that only looks like it keeps its texts. Entries matched to or about a tranche
 * (disbursement_id), naming one (reference), or not ignored are untouched. Their bank ids (end-to-end, instruction,
 * the bank's reference) are ids, not texts, and stay.
 */
export class StatementTextsMinimised1763700023500 implements MigrationInterface {
  name = 'StatementTextsMinimised1763700023500';

  async up(q: QueryRunner): Promise<void> {
    const [{ encoding }] = (await q.query(`SELECT current_setting('server_encoding') AS encoding`)) as { encoding: string }[];
    const texts = `concat_ws(' ', remittance, structured_references::text, end_to_end_id, additional_info, counterparty)`;
    // normalize() needs a UTF8 database; in any other, the texts as they are (no fullwidth letters to fold there).
    const readable = encoding === 'UTF8' ? `normalize(${texts}, NFKC)` : texts;
    await q.query(`
      UPDATE statement_entries
         SET remittance = '', structured_references = '[]'::jsonb, counterparty = NULL, additional_info = NULL
       WHERE status = 'ignored' AND reference IS NULL AND disbursement_id IS NULL
         AND (remittance <> '' OR structured_references <> '[]'::jsonb OR counterparty IS NOT NULL OR additional_info IS NOT NULL)
         AND ${readable} !~* 'spr'`);
  }

  async down(): Promise<void> {
    // What was blanked is gone: nothing to restore, and nothing of the schema changed.
  }
}
