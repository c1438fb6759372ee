import type { Role } from 'src/common/auth/roles';
import { BankStatement } from 'src/reconciliation/bank-statement.entity';
import { StatementItemDto, StatementSummaryDto } from 'src/reconciliation/dto/reconciliation.dto';
import { entryReferences } from 'src/reconciliation/matching';
import { StatementEntry } from 'src/reconciliation/statement-entry.entity';

/** API.md's `unmatched` counts every entry that matched nothing and is no mismatch or duplicate; `ignored` says how many could never match. */
export function toStatementSummary(s: BankStatement): StatementSummaryDto {
  return {
    id: s.id,
    hospitalId: s.hospitalId,
    format: s.format,
    entries: s.entries,
    matched: s.matched,
    unmatched: s.unmatched + s.ignored,
    mismatched: s.mismatched,
    duplicates: s.duplicates,
    ignored: s.ignored,
    sha256: s.sha256 ?? '',
    fileName: s.fileName,
    sizeBytes: s.sizeBytes,
    statementIds: s.statementIds,
    account: s.account,
    importedBy: s.importedBy,
    createdAt: s.createdAt.toISOString(),
  };
}

/**
 * The fund's staff see the free texts (remittance, counterparty) of the entries that concern the fund — those naming or
 * matched to a tranche; of the rest of a hospital's statement (its patients' families paying their bills, its suppliers)
 * they see the date, amount and bank ids only. The hospital's finance office, whose statement it is, sees all of it.
 */
export function toStatementItem(e: StatementEntry, role: Role): StatementItemDto {
  const texts = role === 'hospital_finance' || e.disbursementId !== null || e.reference !== null || namesAnyReference(e);
  return {
    id: e.id,
    position: e.position,
    location: e.location,
    bookingDate: e.bookingDate,
    valueDate: e.valueDate,
    amount: e.amount,
    currency: e.currency,
    creditDebit: e.creditDebit,
    reference: e.reference,
    remittance: texts ? e.remittance : '',
    structuredReferences: texts ? e.structuredReferences : [],
    counterparty: texts ? e.counterparty : null,
    accountServicerReference: e.accountServicerReference,
    endToEndId: e.endToEndId,
    status: e.status,
    reason: e.reason,
    disbursementId: e.disbursementId,
    matchKind: e.matchKind,
    matchedAt: e.matchedAt ? e.matchedAt.toISOString() : null,
    matchNote: e.matchNote,
    resolution: e.resolvedAt ? { note: e.resolutionNote ?? '', resolvedBy: e.resolvedBy ?? '', resolvedAt: e.resolvedAt.toISOString() } : null,
  };
}

/** Whether the entry's texts name any Sprout reference (several leave `reference` empty, one tranche or none of them). */
function namesAnyReference(e: StatementEntry): boolean {
  const texts = { remittance: e.remittance, structuredReferences: e.structuredReferences, endToEndId: e.endToEndId ?? undefined, additionalInfo: e.additionalInfo ?? undefined };
  return entryReferences(texts).length > 0;
}
