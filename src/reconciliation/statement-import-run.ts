import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { entryFingerprint, identifiesWithinFile } from 'src/reconciliation/entry-fingerprint';
import { classifyEntry, entryReferences, MatchCandidate, MatchResult } from 'src/reconciliation/matching';
import { ParsedStatementEntry, ParsedStatementHeader, StatementParseError } from 'src/reconciliation/parsers/statement-entry';

/** Entries are classified and inserted this many at a time: one candidate query, one duplicate query, one INSERT. */
export const IMPORT_BATCH_SIZE = 1000;
const MAX_STATEMENT_IDS = 100;

export type AutoMatch = { entryId: string; disbursementId: string; applicationId: string; amount: number; reference: string };
type Candidate = MatchCandidate & { applicationId: string };
type Decided = { entry: ParsedStatementEntry; id: string; result: MatchResult; reference: string | null; fingerprint: string };

/**
 * The state of one import while the file streams through: entries are buffered up to IMPORT_BATCH_SIZE,
 * classified (classifyEntry, then the cross-statement duplicate rule) and inserted. Memory is bounded by the
 * batch and by the Sprout references the file mentions, never by the file.
 */
export class StatementImportRun {
  readonly statementIds: string[] = [];
  account: string | null = null;
  readonly matches: AutoMatch[] = [];
  private count = 0;
  private batch: ParsedStatementEntry[] = [];
  private readonly candidates = new Map<string, Candidate>();
  private readonly lookedUp = new Set<string>();
  /** References matched by earlier entries of this file (classifyEntry's seenInThisStatement). */
  private readonly matchedReferences = new Set<string>();

  constructor(
    private readonly tx: EntityManager,
    private readonly statementId: string,
    private readonly hospitalId: string,
    private readonly maxEntries: number,
    private readonly onTooMany: (max: number) => Error,
  ) {}

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
    if (this.batch.length >= IMPORT_BATCH_SIZE) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const entries = this.batch;
    this.batch = [];
    const references = entries.map(entryReferences);
    await this.loadCandidates(references.flat());
    const fingerprints = entries.map(entryFingerprint);
    // Entries that can never match (debits, other currencies, …) are never duplicates either: no look-up for them.
    const matchable = entries.map(canMatch);
    const checked = await this.repeatedEntries(
      fingerprints.filter((_, i) => matchable[i]),
      entries.filter((_, i) => matchable[i]).map((e) => e.index),
    );
    let next = 0;
    const repeated = matchable.map((m) => (m ? checked[next++] : false));

    const decided: Decided[] = entries.map((entry, i) => {
      const fingerprint = fingerprints[i];
      let result = classifyEntry(entry, this.candidates, this.hospitalId, this.matchedReferences);
      // The same bank entry imported before is never a second match, nor a second exception to look at.
      if (repeated[i]) {
        result = {
          status: 'duplicate',
          ...(result.status === 'matched' || result.status === 'mismatched' || result.status === 'duplicate' ? { disbursementId: result.disbursementId } : {}),
          ...(result.reference ? { reference: result.reference } : {}),
          reason: 'the same bank entry was already imported',
        };
      }
      const id = randomUUID();
      if (result.status === 'matched' && result.reference && result.disbursementId) {
        this.matchedReferences.add(result.reference);
        const candidate = this.candidates.get(result.reference) as Candidate;
        this.matches.push({ entryId: id, disbursementId: result.disbursementId, applicationId: candidate.applicationId, amount: entry.amount, reference: result.reference });
      }
      return { entry, id, result, fingerprint, reference: result.reference ?? (references[i].length === 1 ? references[i][0] : null) };
    });
    await this.insert(decided);
  }

  /** Stored for now as unmatched: settle() makes the match under the tranche's lock (see there). */
  private static stored(result: MatchResult): { status: string; reason: string | null; disbursementId: string | null } {
    if (result.status === 'matched') return { status: 'unmatched', reason: 'being matched', disbursementId: null };
    const about = result.status === 'mismatched' || result.status === 'duplicate' ? (result.disbursementId ?? null) : null;
    return { status: result.status, reason: result.reason ?? null, disbursementId: about };
  }

  /** Every disbursement, in any status and of any hospital, whose reference the entries mention (classifyEntry wants them all). */
  private async loadCandidates(references: string[]): Promise<void> {
    const unknown = [...new Set(references)].filter((r) => !this.lookedUp.has(r));
    if (unknown.length === 0) return;
    unknown.forEach((r) => this.lookedUp.add(r));
    const rows = (await this.tx.query(
      `SELECT id, reference, amount::text AS amount, status, hospital_id, application_id FROM disbursements WHERE reference = ANY($1)`,
      [unknown],
    )) as { id: string; reference: string; amount: string; status: string; hospital_id: string; application_id: string }[];
    for (const r of rows) {
      this.candidates.set(r.reference, { id: r.id, amount: Number(r.amount), status: r.status, hospitalId: r.hospital_id, applicationId: r.application_id });
    }
  }

  /**
   * Which entries of the batch repeat a bank entry seen before: in an earlier statement of this hospital, or
   * (bank-identified fingerprints only) earlier in this file. Records each first occurrence as it goes, with
   * one primary-key probe per fingerprint (ON CONFLICT), so the cost does not grow with the statement.
   */
  private async repeatedEntries(fingerprints: string[], positions: number[]): Promise<boolean[]> {
    if (fingerprints.length === 0) return [];
    const first = new Map<string, number>();
    fingerprints.forEach((fp, i) => first.has(fp) || first.set(fp, positions[i]));
    const rows = (await this.tx.query(
      `INSERT INTO statement_fingerprints AS f (hospital_id, fingerprint, statement_id, first_position)
       SELECT $1, u.fp, $3, u.pos FROM unnest($2::text[], $4::int[]) AS u(fp, pos)
       ON CONFLICT (hospital_id, fingerprint) DO UPDATE SET fingerprint = f.fingerprint
       RETURNING f.fingerprint, f.statement_id, f.first_position`,
      [this.hospitalId, [...first.keys()], this.statementId, [...first.values()]],
    )) as { fingerprint: string; statement_id: string; first_position: number }[];
    const firstSeen = new Map(rows.map((r) => [r.fingerprint, r]));
    return fingerprints.map((fp, i) => {
      const seen = firstSeen.get(fp);
      if (!seen) return false;
      if (seen.statement_id !== this.statementId) return true;
      return identifiesWithinFile(fp) && seen.first_position !== positions[i];
    });
  }

  private async insert(rows: Decided[]): Promise<void> {
    const col = <T>(f: (d: Decided) => T) => rows.map(f);
    await this.tx.query(
      `INSERT INTO statement_entries (id, statement_id, hospital_id, position, location, booking_date, value_date, amount, credit_debit, currency,
              entry_status, reversal, account_servicer_reference, end_to_end_id, instruction_id, remittance, structured_references, counterparty,
              additional_info, reference, fingerprint, status, reason, disbursement_id)
       SELECT u.id, $1, $2, u.position, u.location, u.booking_date, u.value_date, u.amount, u.credit_debit, u.currency,
              u.entry_status, u.reversal, u.asr, u.e2e, u.instr, u.remittance, u.refs, u.counterparty,
              u.addl, u.reference, u.fingerprint, u.status, u.reason, u.disbursement_id
         FROM unnest($3::uuid[], $4::int[], $5::text[], $6::date[], $7::date[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::boolean[],
                     $13::text[], $14::text[], $15::text[], $16::text[], $17::jsonb[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[],
                     $23::text[], $24::uuid[])
           AS u(id, position, location, booking_date, value_date, amount, credit_debit, currency, entry_status, reversal, asr, e2e, instr, remittance,
                refs, counterparty, addl, reference, fingerprint, status, reason, disbursement_id)`,
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
        col((d) => d.entry.remittance),
        col((d) => JSON.stringify(d.entry.structuredReferences)),
        col((d) => d.entry.counterparty ?? null),
        col((d) => d.entry.additionalInfo ?? null),
        col((d) => d.reference),
        col((d) => d.fingerprint),
        col((d) => StatementImportRun.stored(d.result).status),
        col((d) => StatementImportRun.stored(d.result).reason),
        col((d) => StatementImportRun.stored(d.result).disbursementId),
      ],
    );
  }
}

/** What classifyEntry would not ignore outright: a booked CNY credit that is no reversal. */
export function canMatch(entry: ParsedStatementEntry): boolean {
  return entry.creditDebit === 'CRDT' && !entry.reversal && entry.currency === 'CNY' && (entry.status === undefined || entry.status === 'BOOK');
}

/** PostgreSQL text cannot hold U+0000; such a field is damage, not data. */
function refuseNul(entry: ParsedStatementEntry): void {
  const texts = [entry.remittance, entry.counterparty, entry.additionalInfo, entry.accountServicerReference, entry.endToEndId, entry.instructionId, ...entry.structuredReferences];
  if (texts.some((t) => t?.includes('\u0000'))) throw new StatementParseError('a field contains a NUL character', entry.location);
}
