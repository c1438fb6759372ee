import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { formerFingerprint, identifiesWithinFile, REPEATED_ENTRY_REASON, RowOccurrences, sameReferences } from 'src/reconciliation/entry-fingerprint';
import { MatchCandidates } from 'src/reconciliation/match-candidates';
import { bookedInCny, classifyEntry, entryReferences, MATCHED_EARLIER_IN_FILE_REASON, MatchResult, StoredEntryTexts, storedEntryReferences } from 'src/reconciliation/matching';
import { ParsedStatementEntry, ParsedStatementHeader, StatementParseError } from 'src/reconciliation/parsers/statement-entry';

/**
 * Entries are classified and inserted this many at a time: one candidate query, one duplicate query (and one for former
 * fingerprints, when the batch has any), one INSERT.
 */
export const IMPORT_BATCH_SIZE = 1000;
const MAX_STATEMENT_IDS = 100;

/**
 * Entries matched automatically wait here, whole, until the import settles them (StatementSettlement): a temporary
 * table of the import's transaction, dropped at its end, so that the matches of a 200,000-entry file are held by
 * the database and not by the api process.
 */
export const PENDING_MATCHES = 'pg_temp.statement_import_matches';

/** The columns StatementImportRun fills, copied as they are from PENDING_MATCHES into statement_entries. */
export const ENTRY_COLUMNS = [
  'id', 'statement_id', 'hospital_id', 'position', 'location', 'booking_date', 'value_date', 'amount', 'credit_debit', 'currency',
  'entry_status', 'reversal', 'account_servicer_reference', 'end_to_end_id', 'instruction_id', 'remittance', 'structured_references',
  'counterparty', 'additional_info', 'reference', 'fingerprint',
];

/** `keepsTexts`: whether the entry's free texts (remittance, counterparty, additional information) are stored. */
type Decided = { entry: ParsedStatementEntry; id: string; result: MatchResult; reference: string | null; fingerprint: string; keepsTexts: boolean };
/** An entry whose fingerprint is checked for a repeat (StatementImportRun.repeatedEntries). */
type RepeatCheck = { fingerprint: string; position: number; former: string | null; references: readonly string[] };
/** Where a bank entry was first imported: a statement and the entry's position in it. */
type FirstSeen = { statementId: string; position: number };

/**
 * The state of one import while the file streams through: entries are buffered up to IMPORT_BATCH_SIZE,
 * classified (classifyEntry, then the cross-statement duplicate rule) and inserted; the entries matched go to
 * PENDING_MATCHES instead, for settlement under the locks at the end. Memory is bounded by the batch and by the
 * references matched so far (a set of strings), and for rows without a bank reference (CSV) by one number per distinct
 * row (RowOccurrences: ~10 MiB for 200,000 rows).
 */
export class StatementImportRun {
  readonly statementIds: string[] = [];
  account: string | null = null;
  /** Entries matched so far, stored in PENDING_MATCHES. */
  matched = 0;
  private count = 0;
  private batch: ParsedStatementEntry[] = [];
  /** The batch being stored while the parser reads the next one (at most one: memory stays at two batches). */
  private inFlight: Promise<void> | null = null;
  /** References matched by earlier entries of this file (classifyEntry's seenInThisStatement). */
  private readonly matchedReferences = new Set<string>();
  private readonly occurrences = new RowOccurrences();
  /** References a debit or reversal of this file named (classifyEntry: money that may have gone back). */
  private readonly takenBack = new Set<string>();
  private readonly candidates: MatchCandidates;

  constructor(
    private readonly tx: EntityManager,
    private readonly statementId: string,
    private readonly hospitalId: string,
    private readonly maxEntries: number,
    private readonly onTooMany: (max: number) => Error,
  ) {
    this.candidates = new MatchCandidates(tx, statementId, hospitalId);
  }

  get entries(): number {
    return this.count;
  }

  header(header: ParsedStatementHeader): void {
    if (header.statementId && this.statementIds.length < MAX_STATEMENT_IDS) this.statementIds.push(header.statementId);
    this.account ??= header.accountIban ?? header.accountOther ?? null;
  }

  async add(entry: ParsedStatementEntry): Promise<void> {
    if (++this.count > this.maxEntries) throw this.onTooMany(this.maxEntries);
    refuseNul(entry);
    this.batch.push(entry);
    if (this.batch.length >= IMPORT_BATCH_SIZE) await this.dispatch();
  }

  /** Stores what is left and waits until every batch is stored; throws what storing a batch threw. */
  async flush(): Promise<void> {
    if (this.batch.length > 0) await this.dispatch();
    const last = this.inFlight;
    this.inFlight = null;
    await last;
    await this.holdBackTakenBack();
  }

  /**
   * A credit matched to a tranche that a debit or reversal of the same file also names (in either order) does not
   * settle it: the payment may have come and gone again, and completing the grant on it would hide that. It is
   * stored as mismatched, beside the debit, for hospital finance to look at. (A debit of an earlier import: MatchCandidates.)
   */
  private async holdBackTakenBack(): Promise<void> {
    if (this.matched === 0 || this.takenBack.size === 0) return;
    const [, held] = (await this.tx.query(
      `UPDATE ${PENDING_MATCHES} SET status = 'mismatched',
              reason = 'a debit or reversal in this statement names the same disbursement: the payment may have been sent back; check with the bank'
        WHERE reference = ANY($1)`,
      [[...this.takenBack]],
    )) as [unknown, number];
    if (held === 0) return;
    const columns = [...ENTRY_COLUMNS, 'status', 'reason', 'disbursement_id'].join(', ');
    await this.tx.query(
      `WITH moved AS (DELETE FROM ${PENDING_MATCHES} WHERE status = 'mismatched' RETURNING ${columns}) INSERT INTO statement_entries (${columns}) SELECT ${columns} FROM moved`,
    );
    this.matched -= held;
    // A later credit of the file was called a second transfer (a possible double payment, emailed so) only because the
    // credit held back here had matched first: with that match undone it is no second payment, but one more credit
    // for a tranche the file also takes money back from (a return and the payment made again: finance testing).
    await this.tx.query(
      `UPDATE statement_entries SET status = 'mismatched',
              reason = 'a debit or reversal in this statement names the same disbursement, and another credit of it too: which credit is the payment? Match it by hand'
        WHERE statement_id = $1 AND status = 'duplicate' AND reason = $2 AND reference = ANY($3)`,
      [this.statementId, MATCHED_EARLIER_IN_FILE_REASON, [...this.takenBack]],
    );
  }

  /**
   * On the error path, before the transaction is rolled back: waits for the batch still being stored, whatever its
   * outcome, so that none of its statements can reach the connection after the ROLLBACK (they would autocommit).
   */
  async abandon(): Promise<void> {
    const last = this.inFlight;
    this.inFlight = null;
    await last?.catch(() => undefined);
  }

  /**
   * Starts storing the current batch without waiting for it, so that parsing (Node) and storing (PostgreSQL) overlap
   * on the two cores; first waits for the batch before, whose matches the next classification needs.
   */
  private async dispatch(): Promise<void> {
    const entries = this.batch;
    this.batch = [];
    if (this.inFlight) await this.inFlight;
    const storing = this.store(entries);
    storing.catch(() => undefined); // awaited by the next dispatch, flush() or abandon()
    this.inFlight = storing;
  }

  private async store(entries: ParsedStatementEntry[]): Promise<void> {
    const references = entries.map(entryReferences);
    const candidates = await this.candidates.for(references.flat());
    const fingerprints = entries.map((entry, i) => this.occurrences.fingerprintOf(entry, references[i]));
    // Entries that can never match nor name a tranche (debits without a reference, other currencies, …) are never
    // duplicates either: no look-up for them. A debit naming a tranche is an exception once, not once per file.
    const matchable = entries.map((entry, i) => checksRepeats(entry, references[i]));
    const checked = await this.repeatedEntries(
      entries.flatMap((entry, i) =>
        matchable[i] ? [{ fingerprint: fingerprints[i], position: entry.index, former: formerFingerprint(entry, references[i]), references: references[i] }] : [],
      ),
    );
    let next = 0;
    const repeated = matchable.map((m) => (m ? checked[next++] : false));

    const decided: Decided[] = entries.map((entry, i) => {
      const fingerprint = fingerprints[i];
      let result = classifyEntry(entry, candidates, this.hospitalId, this.matchedReferences, references[i]);
      // The same bank entry imported before is never a second match, nor a second exception to look at. One that
      // means nothing here (ignored) stays ignored: a repeat of it is not an exception either.
      if (repeated[i] && result.status !== 'ignored') {
        result = {
          status: 'duplicate',
          ...(result.status === 'matched' || result.status === 'mismatched' || result.status === 'duplicate' ? { disbursementId: result.disbursementId } : {}),
          ...(result.reference ? { reference: result.reference } : {}),
          reason: REPEATED_ENTRY_REASON,
        };
      }
      if (result.status === 'matched' && result.reference) this.matchedReferences.add(result.reference);
      if (result.status === 'mismatched' && mayTakeBack(entry)) for (const reference of result.takenBack ?? []) this.takenBack.add(reference);
      const reference = result.reference ?? (references[i].length === 1 ? references[i][0] : null);
      return { entry, id: randomUUID(), result, fingerprint, reference, keepsTexts: result.status !== 'ignored' || references[i].length > 0 };
    });
    const matched = decided.filter((d) => d.result.status === 'matched');
    await this.insert('statement_entries', matched.length ? decided.filter((d) => d.result.status !== 'matched') : decided);
    if (matched.length) {
      if (this.matched === 0) {
        await this.tx.query(`CREATE TEMP TABLE ${PENDING_MATCHES.slice('pg_temp.'.length)} (LIKE statement_entries INCLUDING DEFAULTS) ON COMMIT DROP`);
        await this.tx.query(`ALTER TABLE ${PENDING_MATCHES} ADD COLUMN payment_id uuid`);
      }
      await this.insert(PENDING_MATCHES, matched);
      this.matched += matched.length;
    }
  }

  /**
   * As stored: a match waits in PENDING_MATCHES with the tranche it found, and becomes a matched entry only when
   * StatementSettlement has it under the tranche's lock (see there).
   */
  private static stored(result: MatchResult): { status: string; reason: string | null; disbursementId: string | null } {
    if (result.status === 'matched') return { status: 'matched', reason: null, disbursementId: result.disbursementId ?? null };
    const about = result.status === 'mismatched' || result.status === 'duplicate' ? (result.disbursementId ?? null) : null;
    return { status: result.status, reason: result.reason ?? null, disbursementId: about };
  }

  /**
   * Which entries of the batch repeat a bank entry seen before: in an earlier statement of this hospital, or
   * (bank-identified fingerprints only) earlier in this file. Records each first occurrence as it goes, with
   * one primary-key probe per fingerprint (ON CONFLICT), so the cost does not grow with the statement. An entry first
   * imported under its former fingerprint (firstSeenUnderFormerFingerprints) is recorded under its fingerprint with
   * that first import: later imports, and a person matching it by hand (EntryMatchingService), see the repeat too.
   */
  private async repeatedEntries(checks: RepeatCheck[]): Promise<boolean[]> {
    if (checks.length === 0) return [];
    const earlier = await this.firstSeenUnderFormerFingerprints(checks);
    const first = new Map<string, FirstSeen>();
    checks.forEach((c, i) => first.has(c.fingerprint) || first.set(c.fingerprint, earlier[i] ?? { statementId: this.statementId, position: c.position }));
    const rows = (await this.tx.query(
      `INSERT INTO statement_fingerprints AS f (hospital_id, fingerprint, statement_id, first_position)
       SELECT $1, u.fp, u.statement_id, u.pos FROM unnest($2::text[], $3::uuid[], $4::int[]) AS u(fp, statement_id, pos)
       ON CONFLICT (hospital_id, fingerprint) DO UPDATE SET fingerprint = f.fingerprint
       RETURNING f.fingerprint, f.statement_id, f.first_position`,
      [this.hospitalId, [...first.keys()], [...first.values()].map((s) => s.statementId), [...first.values()].map((s) => s.position)],
    )) as { fingerprint: string; statement_id: string; first_position: number }[];
    const firstSeen = new Map(rows.map((r) => [r.fingerprint, r]));
    return checks.map(({ fingerprint, position }) => {
      const seen = firstSeen.get(fingerprint);
      if (!seen) return false;
      if (seen.statement_id !== this.statementId) return true;
      return identifiesWithinFile(fingerprint) && seen.first_position !== position;
    });
  }

  /**
   * Per check, the first import of its bank entry under the entry's former fingerprint (formerFingerprint), if any:
   * one whose entry names the same Sprout references. The former form took different transfers sharing an end-to-end
   * id (or a placeholder for one) for one entry, so an entry stored under it that names other references is another
   * transfer, which this one does not repeat. (So is an entry imported since the change under the same end-to-end id
   * naming no reference: its fingerprint has the former form's parts.) Only entries whose fingerprint changed (an
   * end-to-end id with a reference, or a placeholder) are looked up: one query per batch, two index probes each.
   */
  private async firstSeenUnderFormerFingerprints(checks: RepeatCheck[]): Promise<(FirstSeen | undefined)[]> {
    const former = [...new Set(checks.flatMap((c) => (c.former ? [c.former] : [])))];
    if (former.length === 0) return [];
    const rows = (await this.tx.query(
      `SELECT f.fingerprint, f.statement_id, f.first_position, e.remittance, e.structured_references, e.end_to_end_id, e.additional_info
         FROM statement_fingerprints f JOIN statement_entries e ON e.statement_id = f.statement_id AND e.position = f.first_position
        WHERE f.hospital_id = $1 AND f.fingerprint = ANY($2)`,
      [this.hospitalId, former],
    )) as (StoredEntryTexts & { fingerprint: string; statement_id: string; first_position: number })[];
    const byFingerprint = new Map(rows.map((r) => [r.fingerprint, r]));
    return checks.map((c) => {
      const stored = c.former ? byFingerprint.get(c.former) : undefined;
      if (!stored || !sameReferences(storedEntryReferences(stored), c.references)) return undefined;
      return { statementId: stored.statement_id, position: stored.first_position };
    });
  }

  private async insert(table: string, rows: Decided[]): Promise<void> {
    if (rows.length === 0) return;
    const col = <T>(f: (d: Decided) => T) => rows.map(f);
    const stored = rows.map((d) => StatementImportRun.stored(d.result));
    // A pending match also keeps the payment it was judged against (StatementSettlement settles it only if unchanged).
    const pending = table === PENDING_MATCHES;
    await this.tx.query(
      `INSERT INTO ${table} (id, statement_id, hospital_id, position, location, booking_date, value_date, amount, credit_debit, currency,
              entry_status, reversal, account_servicer_reference, end_to_end_id, instruction_id, remittance, structured_references, counterparty,
              additional_info, reference, fingerprint, status, reason, disbursement_id${pending ? ', payment_id' : ''})
       SELECT u.id, $1, $2, u.position, u.location, u.booking_date, u.value_date, u.amount, u.credit_debit, u.currency,
              u.entry_status, u.reversal, u.asr, u.e2e, u.instr, u.remittance, u.refs, u.counterparty,
              u.addl, u.reference, u.fingerprint, u.status, u.reason, u.disbursement_id${pending ? ', u.payment_id' : ''}
         FROM unnest($3::uuid[], $4::int[], $5::text[], $6::date[], $7::date[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::boolean[],
                     $13::text[], $14::text[], $15::text[], $16::text[], $17::jsonb[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[],
                     $23::text[], $24::uuid[]${pending ? ', $25::uuid[]' : ''})
           AS u(id, position, location, booking_date, value_date, amount, credit_debit, currency, entry_status, reversal, asr, e2e, instr, remittance,
                refs, counterparty, addl, reference, fingerprint, status, reason, disbursement_id${pending ? ', payment_id' : ''})`,
      [
        this.statementId,
        this.hospitalId,
        col((d) => d.id),
        col((d) => d.entry.index),
        col((d) => d.entry.location),
        col((d) => d.entry.bookingDate),
        col((d) => d.entry.valueDate ?? null),
        col((d) => d.entry.amount),
        col((d) => d.entry.creditDebit),
        col((d) => d.entry.currency),
        col((d) => d.entry.status ?? null),
        col((d) => d.entry.reversal === true),
        col((d) => d.entry.accountServicerReference ?? null),
        col((d) => d.entry.endToEndId ?? null),
        col((d) => d.entry.instructionId ?? null),
        // An entry that can mean nothing to the fund (a debit, another currency, not booked) and names no tranche is
        // most of a hospital's statement: other patients' families paying their bills, salaries, suppliers. Who paid
        // or was paid, and why, is none of Sprout's business: kept are its date, amount, direction and bank ids (its
        // references too are texts: a CSV's reference column holds whatever the payer wrote).
        col((d) => (d.keepsTexts ? d.entry.remittance : '')),
        col((d) => JSON.stringify(d.keepsTexts ? d.entry.structuredReferences : [])),
        col((d) => (d.keepsTexts ? (d.entry.counterparty ?? null) : null)),
        col((d) => (d.keepsTexts ? (d.entry.additionalInfo ?? null) : null)),
        col((d) => d.reference),
        col((d) => d.fingerprint),
        stored.map((s) => s.status),
        stored.map((s) => s.reason),
        stored.map((s) => s.disbursementId),
        ...(pending ? [col((d) => d.result.paymentId ?? null)] : []),
      ],
    );
  }
}

/** What classifyEntry would not ignore outright: a booked CNY credit that is no reversal. */
export function canMatch(entry: ParsedStatementEntry): boolean {
  return entry.creditDebit === 'CRDT' && !entry.reversal && bookedInCny(entry);
}

/**
 * Whether an entry's fingerprint is checked for a repeat of an earlier import: what classifyEntry may not ignore —
 * a matchable credit, or a debit or reversal that names a Sprout reference (takingBack).
 */
export function checksRepeats(entry: ParsedStatementEntry, references: readonly string[]): boolean {
  return canMatch(entry) || (references.length > 0 && mayTakeBack(entry));
}

/** A booked CNY debit or reversal: money that may be going back (classifyEntry, takingBack). */
function mayTakeBack(entry: ParsedStatementEntry): boolean {
  return (entry.creditDebit !== 'CRDT' || entry.reversal === true) && bookedInCny(entry);
}

/** PostgreSQL text cannot hold U+0000; such a field is damage, not data. */
function refuseNul(entry: ParsedStatementEntry): void {
  const texts = [entry.remittance, entry.counterparty, entry.additionalInfo, entry.accountServicerReference, entry.endToEndId, entry.instructionId, ...entry.structuredReferences];
  if (texts.some((t) => t?.includes('\u0000'))) throw new StatementParseError('a field contains a NUL character', entry.location);
}
