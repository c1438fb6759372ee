import { MigrationInterface, QueryRunner } from 'typeorm';

/** Entries read per statement, in primary-key order: each batch commits on its own and holds few row locks. */
const BATCH = 10_000;

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
 *
 * statement_entries is the largest table: it is walked in batches of its primary key, each committed on its own
 * (outside a migration transaction), so imports go on meanwhile and WAL comes in steps. Cut short, it blanks the rest
 * when it runs again (what it did stays done). It runs before the new release serves, for as long as the table takes
 * (README, upgrading).
 */
export class StatementTextsMinimised1763700023500 implements MigrationInterface {
  name = 'StatementTextsMinimised1763700023500';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    const [{ encoding }] = (await q.query(`SELECT current_setting('server_encoding') AS encoding`)) as { encoding: string }[];
    const texts = `concat_ws(' ', e.remittance, e.structured_references::text, e.end_to_end_id, e.additional_info, e.counterparty)`;
    // normalize() needs a UTF8 database; in any other, the texts as they are (no fullwidth letters to fold there).
    const readable = encoding === 'UTF8' ? `normalize(${texts}, NFKC)` : texts;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const [row] = (await q.query(
        `WITH batch AS (SELECT e.id FROM statement_entries e WHERE e.id > $1 ORDER BY e.id LIMIT ${BATCH}),
              blanked AS (
                UPDATE statement_entries e
                   SET remittance = '', structured_references = '[]'::jsonb, counterparty = NULL, additional_info = NULL
                  FROM batch
                 WHERE e.id = batch.id AND e.status = 'ignored' AND e.reference IS NULL AND e.disbursement_id IS NULL
                   AND (e.remittance <> '' OR e.structured_references <> '[]'::jsonb OR e.counterparty IS NOT NULL OR e.additional_info IS NOT NULL)
                   AND ${readable} !~* 'spr'
                RETURNING 1)
         SELECT (SELECT max(id::text) FROM batch) AS last, (SELECT count(*)::int FROM blanked) AS blanked`,
        [after],
      )) as { last: string | null; blanked: number }[];
      if (row.last === null) return;
      after = row.last;
    }
  }

  async down(): Promise<void> {
    // What was blanked is gone: nothing to restore, and nothing of the schema changed.
  }
}
