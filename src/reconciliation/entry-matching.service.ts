import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { DisbursementNotFoundException } from 'src/disbursements/disbursements.exceptions';
import { GrantProgressService } from 'src/disbursements/grant-progress.service';
import { MatchEntryDto, ResolveEntryDto, StatementItemDto } from 'src/reconciliation/dto/reconciliation.dto';
import { REPEATED_ENTRY_REASON, sameReferences } from 'src/reconciliation/entry-fingerprint';
import { entryReferences, StoredEntryTexts, storedEntryReferences } from 'src/reconciliation/matching';
import { EntryMatchConflictException, EntryNotMatchableException, StatementEntryNotFoundException } from 'src/reconciliation/reconciliation.exceptions';
import { StatementEntry } from 'src/reconciliation/statement-entry.entity';
import { toStatementItem } from 'src/reconciliation/statement-view';

/** Statuses of the entries that need a person (the report's exceptions), which a person may resolve. */
const EXCEPTION_STATUSES: readonly string[] = ['mismatched', 'unmatched', 'duplicate'];

/**
 * How far a credit matched by hand may differ from its tranche: a bank's fee taken on the way, or added back, is a
 * few yuan; a larger difference is another payment, or a wrong one, for fund finance to sort out with the bank.
 */
export const MATCH_DIFFERENCE_LIMIT = { fraction: 0.01, fen: 50_000 };

function assertAcceptableDifference(entryAmount: number, trancheAmount: number, reason: string | undefined): void {
  const difference = Math.abs(entryAmount - trancheAmount);
  const limit = Math.min(Math.floor(trancheAmount * MATCH_DIFFERENCE_LIMIT.fraction), MATCH_DIFFERENCE_LIMIT.fen);
  if (difference > limit) {
    throw new EntryNotMatchableException(
      'amount-mismatch',
      `The entry is ${entryAmount} fen; the tranche is ${trancheAmount} fen. A match may differ by at most ${limit} fen (1% of the tranche, and ¥500): ` +
        'resolve the entry with a note instead, and ask fund finance about the tranche.',
    );
  }
  if (!reason) {
    throw new EntryNotMatchableException(
      'amount-mismatch',
      `The entry is ${entryAmount} fen; the tranche is ${trancheAmount} fen. To match it all the same (a bank fee deducted on the way), give differenceReason.`,
    );
  }
}

/**
 * A person matching an entry to a tranche, or undoing a match, or settling an exception. Only what automatic matching
 * could have matched save for the reference: a booked CNY credit (422 otherwise) of the same amount (or within a bank
 * fee of it, with the reason: 422 otherwise) and the same hospital
 * (422; a tranche hospital finance may not see is 404), to a paid tranche (409) not matched elsewhere (409).
 */
@Injectable()
export class EntryMatchingService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly progress: GrantProgressService,
    private readonly audit: AuditService,
  ) {}

  async match(user: AuthUser, entryId: string, dto: MatchEntryDto): Promise<StatementItemDto> {
    return this.dataSource.transaction(async (tx) => {
      const entry = await this.lockEntry(tx, user, entryId);
      const applicationId = await this.progress.applicationIdOf(tx, dto.disbursementId).catch(() => null);
      if (!applicationId) throw new DisbursementNotFoundException();
      const app = await this.progress.lockApplication(tx, applicationId);
      const d = await this.progress.lockDisbursement(tx, dto.disbursementId);
      if (user.role === 'hospital_finance' && d.hospitalId !== user.hospitalId) throw new DisbursementNotFoundException();

      if (entry.status === 'matched') throw new EntryMatchConflictException('entry-already-matched', 'This entry is already matched; unmatch it first.');
      await this.refuseRepeatedBankEntry(tx, entry);
      if (entry.creditDebit !== 'CRDT' || entry.reversal || entry.currency !== 'CNY' || (entry.entryStatus !== null && entry.entryStatus !== 'BOOK')) {
        throw new EntryNotMatchableException('entry-not-matchable', 'Only a booked credit in CNY can pay a tranche.');
      }
      if (d.hospitalId !== entry.hospitalId) throw new EntryNotMatchableException('hospital-mismatch', "The tranche was paid to another hospital than this statement's.");
      const difference = entry.amount - d.amount;
      if (difference !== 0) assertAcceptableDifference(entry.amount, d.amount, dto.differenceReason);
      if (d.status !== 'paid') throw new EntryMatchConflictException('disbursement-not-paid', `The tranche is ${d.status}; only a paid tranche can be reconciled.`);

      const now = new Date();
      await this.setEntry(tx, entry.id, {
        status: 'matched',
        disbursementId: d.id,
        matchKind: 'manual',
        matchedBy: user.id,
        matchedAt: now,
        reason: null,
        reference: d.reference,
        matchNote: difference !== 0 ? (dto.differenceReason ?? null) : null,
        resolvedAt: null,
        resolvedBy: null,
        resolutionNote: null,
      });
      await this.progress.moveDisbursement(tx, d, 'paid', { status: 'reconciled', reconciledAt: now });
      await this.recount(tx, entry.statementId);
      const change = await this.progress.completeIfSettled(tx, app);
      await this.audit.record(tx, {
        actor: user,
        action: 'reconciliation.entry_matched',
        objectType: 'statement_entry',
        objectId: entry.id,
        summary: {
          statementId: entry.statementId,
          disbursementId: d.id,
          reference: d.reference,
          amount: d.amount,
          previousStatus: entry.status,
          ...(difference !== 0 && { entryAmount: entry.amount, difference, differenceReason: dto.differenceReason }),
          ...(entry.resolvedAt && { wasResolved: true }),
        },
      });
      await this.audit.record(tx, {
        actor: user,
        action: 'disbursement.reconciled',
        objectType: 'disbursement',
        objectId: d.id,
        summary: { reference: d.reference, statementId: entry.statementId, entryId: entry.id, matchKind: 'manual' },
      });
      await this.progress.recordStatusChange(tx, user, change);
      return toStatementItem(await tx.getRepository(StatementEntry).findOneByOrFail({ id: entry.id }), user.role);
    });
  }

  /**
   * Undoes a match: the entry becomes unmatched and the tranche paid again (audited on both). Refused (409) when the grant is
   * completed: completion is final (DESIGN.md), so a wrong match there is corrected by the fund, not undone here.
   */
  async unmatch(user: AuthUser, entryId: string): Promise<StatementItemDto> {
    return this.dataSource.transaction(async (tx) => {
      const entry = await this.lockEntry(tx, user, entryId);
      if (entry.status !== 'matched' || !entry.disbursementId) throw new EntryMatchConflictException('entry-not-matched', 'This entry is not matched.');
      const app = await this.progress.lockApplication(tx, await this.progress.applicationIdOf(tx, entry.disbursementId));
      const d = await this.progress.lockDisbursement(tx, entry.disbursementId);
      if (app.status === 'completed') {
        throw new EntryMatchConflictException('application-completed', 'The grant is completed, which is final; its reconciliations can no longer be undone.');
      }
      await this.setEntry(tx, entry.id, { status: 'unmatched', disbursementId: null, matchKind: null, matchedBy: null, matchedAt: null, matchNote: null, reason: 'unmatched by hand' });
      await this.progress.moveDisbursement(tx, d, 'reconciled', { status: 'paid', reconciledAt: null });
      await this.recount(tx, entry.statementId);
      await this.audit.record(tx, {
        actor: user,
        action: 'reconciliation.entry_unmatched',
        objectType: 'statement_entry',
        objectId: entry.id,
        summary: { statementId: entry.statementId, disbursementId: d.id, reference: d.reference, matchKind: entry.matchKind },
      });
      // The tranche's own trail too: its history (and an auditor rebuilding its status from its events) must see the
      // reconciliation undone, not a tranche still reconciled.
      await this.audit.record(tx, {
        actor: user,
        action: 'disbursement.unreconciled',
        objectType: 'disbursement',
        objectId: d.id,
        summary: { reference: d.reference, statementId: entry.statementId, entryId: entry.id, matchKind: entry.matchKind },
      });
      return toStatementItem(await tx.getRepository(StatementEntry).findOneByOrFail({ id: entry.id }), user.role);
    });
  }

  /**
   * Settles an exception that needs nothing more of Sprout (a bank fee debited under a tranche's reference, a
   * transfer repeated in another export, a credit sorted out with the bank): it keeps its status and reason, and
   * leaves the report's exceptions. 409 for an entry that is no exception, or is resolved already.
   */
  async resolve(user: AuthUser, entryId: string, dto: ResolveEntryDto): Promise<StatementItemDto> {
    return this.dataSource.transaction(async (tx) => {
      const entry = await this.lockEntry(tx, user, entryId);
      if (!EXCEPTION_STATUSES.includes(entry.status)) {
        throw new EntryMatchConflictException('entry-not-exception', `This entry is ${entry.status}; only a mismatched, unmatched or duplicate entry can be resolved.`);
      }
      if (entry.resolvedAt) throw new EntryMatchConflictException('entry-already-resolved', 'This exception is resolved already; reopen it first to resolve it again.');
      if (entry.status === 'duplicate' && entry.reason === REPEATED_ENTRY_REASON) {
        // Not counted anywhere: its first import is the exception, if any. Resolving the repeat would close nothing.
        throw new EntryMatchConflictException('entry-repeats-imported-entry', 'This entry repeats a bank entry already imported, which is the one that counts: resolve that one.');
      }
      await this.setEntry(tx, entry.id, { resolvedAt: new Date(), resolvedBy: user.id, resolutionNote: dto.note });
      await this.audit.record(tx, {
        actor: user,
        action: 'reconciliation.exception_resolved',
        objectType: 'statement_entry',
        objectId: entry.id,
        summary: { statementId: entry.statementId, status: entry.status, amount: entry.amount, creditDebit: entry.creditDebit },
      });
      return toStatementItem(await tx.getRepository(StatementEntry).findOneByOrFail({ id: entry.id }), user.role);
    });
  }

  /** Undoes a resolution (resolved by mistake): the entry counts among the exceptions again. */
  async reopen(user: AuthUser, entryId: string): Promise<StatementItemDto> {
    return this.dataSource.transaction(async (tx) => {
      const entry = await this.lockEntry(tx, user, entryId);
      if (!entry.resolvedAt) throw new EntryMatchConflictException('entry-not-resolved', 'This entry is not a resolved exception.');
      // A debit resolved as no money sent back released its tranche's credit, which may have reconciled it since:
      // reopening the debit would not undo that, so it is refused rather than reopened as if it held the tranche again.
      if (entry.status === 'mismatched' && (entry.creditDebit === 'DBIT' || entry.reversal) && entry.disbursementId) {
        const [tranche] = (await tx.query(`SELECT status FROM disbursements WHERE id = $1`, [entry.disbursementId])) as { status: string }[];
        if (tranche?.status === 'reconciled') {
          throw new EntryMatchConflictException(
            'resolution-acted-on',
            'The tranche this debit names has been reconciled since it was resolved; reopening the debit would not undo that. Unmatch the entry that reconciled it first (a completed grant cannot be reopened: tell the fund office).',
          );
        }
      }
      await this.setEntry(tx, entry.id, { resolvedAt: null, resolvedBy: null, resolutionNote: null });
      await this.audit.record(tx, {
        actor: user,
        action: 'reconciliation.exception_reopened',
        objectType: 'statement_entry',
        objectId: entry.id,
        summary: { statementId: entry.statementId, status: entry.status, resolvedBy: entry.resolvedBy },
      });
      return toStatementItem(await tx.getRepository(StatementEntry).findOneByOrFail({ id: entry.id }), user.role);
    });
  }

  /**
   * Only the first import of a bank entry can pay a tranche. A repeat of it (the end-of-day statement after the
   * intraday one, the same file exported twice) is the same money: matched by hand to another tranche of the same
   * amount, one credit would reconcile two tranches, and complete a grant that was paid only once. An entry naming
   * other Sprout references than the first one under the same end-to-end id is another transfer: entries imported before
   * fingerprints took the references in (formerFingerprint) may share one. A bank reference names one entry for good.
   */
  private async refuseRepeatedBankEntry(tx: EntityManager, entry: StatementEntry): Promise<void> {
    if (!entry.fingerprint) return;
    const [first] = (await tx.query(
      `SELECT f.statement_id, f.first_position, e.remittance, e.structured_references, e.end_to_end_id, e.additional_info
         FROM statement_fingerprints f LEFT JOIN statement_entries e ON e.statement_id = f.statement_id AND e.position = f.first_position
        WHERE f.hospital_id = $1 AND f.fingerprint = $2`,
      [entry.hospitalId, entry.fingerprint],
    )) as ({ statement_id: string; first_position: number } & (StoredEntryTexts | { [K in keyof StoredEntryTexts]: null }))[];
    if (!first || (first.statement_id === entry.statementId && first.first_position === entry.position)) return;
    // Only a fingerprint of the payer's end-to-end id (no bank reference) could be the former, ambiguous form: one of
    // the bank's own reference, or of a whole CSV row, names one entry, whatever references its texts carry.
    const byEndToEndId = !entry.accountServicerReference?.trim() && !!entry.endToEndId?.trim();
    const ours = entryReferences({ ...entry, endToEndId: entry.endToEndId ?? undefined, additionalInfo: entry.additionalInfo ?? undefined });
    if (byEndToEndId && first.remittance !== null && !sameReferences(ours, storedEntryReferences(first as StoredEntryTexts))) return;
    throw new EntryMatchConflictException(
      'entry-repeats-imported-entry',
      `This entry repeats a bank entry already imported (statement ${first.statement_id}, entry ${first.first_position + 1}); match that one instead.`,
    );
  }

  /** The entry, locked first (lock order: entry → application → tranche); another hospital's is not found. */
  private async lockEntry(tx: EntityManager, user: AuthUser, id: string): Promise<StatementEntry> {
    const qb = tx.getRepository(StatementEntry).createQueryBuilder('e').where('e.id = :id', { id }).setLock('pessimistic_write');
    if (user.role === 'hospital_finance') qb.andWhere('e.hospital_id = :hospitalId', { hospitalId: user.hospitalId ?? randomUUID() });
    const entry = await qb.getOne();
    if (!entry) throw new StatementEntryNotFoundException();
    return entry;
  }

  private async setEntry(tx: EntityManager, id: string, values: Partial<StatementEntry>): Promise<void> {
    try {
      await tx.update(StatementEntry, { id }, values);
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code === '23505' && constraint === 'statement_entries_one_match_key') {
        throw new EntryMatchConflictException('disbursement-already-matched', 'Another entry already reconciles this tranche.');
      }
      throw error;
    }
  }

  /** Keeps the statement's counters equal to its entries (a CHECK makes them add up). */
  private async recount(tx: EntityManager, statementId: string): Promise<void> {
    await tx.query(
      `UPDATE bank_statements s SET matched = c.matched, unmatched = c.unmatched, mismatched = c.mismatched, duplicates = c.duplicates, ignored = c.ignored
         FROM (SELECT count(*) FILTER (WHERE status = 'matched')::int AS matched,
                      count(*) FILTER (WHERE status = 'unmatched')::int AS unmatched,
                      count(*) FILTER (WHERE status = 'mismatched')::int AS mismatched,
                      count(*) FILTER (WHERE status = 'duplicate')::int AS duplicates,
                      count(*) FILTER (WHERE status = 'ignored')::int AS ignored
                 FROM statement_entries WHERE statement_id = $1) c
        WHERE s.id = $1`,
      [statementId],
    );
  }
}
