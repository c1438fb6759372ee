import { csvLine } from 'src/disbursements/payment-batch-csv';
import { minorUnitsToDecimal } from 'src/reconciliation/parsers/amount';

/** The group of the unmatched credits naming no Sprout reference, beside the statuses (reconciliation-report.service.ts). */
export const UNNAMED = 'unnamed';
/** The group of the exceptions a person resolved, whatever their status. */
export const RESOLVED = 'resolved';

/** One aggregate row from SQL: a status, how many, and the sum in fen (pg returns both as text). */
export type GroupRow = { status: string; count: number | string; amount: number | string | null };
/** Sums are bigint: a period's exceptions may add up past 2^53 fen, which a number would round. */
type Figure = { count: number; amount: bigint };

/** GET /reconciliation/report (ReconciliationReportDto's shape, amounts exact). */
export type ReconciliationReport = {
  hospitalId: string | null;
  from: string;
  to: string;
  paid: Figure;
  reconciled: Figure;
  outstanding: Figure;
  exceptions: { mismatched: Figure; unmatched: Figure; duplicates: Figure; total: Figure };
  /** Exceptions a person resolved: no longer among `exceptions`. */
  resolvedExceptions: Figure;
  /** Credits naming no Sprout payment: the hospital's own business as far as Sprout can tell; no exception. */
  unnamedCredits: Figure;
};

/**
 * The report from two aggregates: live (unreturned) payments made in the period, grouped by their tranche's
 * status now, and exception entries booked in the period, grouped by status. By construction
 * paid = reconciled + outstanding and exceptions.total = mismatched + unmatched + duplicates.
 */
export function buildReconciliationReport(
  scope: { hospitalId: string | null; from: string; to: string },
  payments: readonly GroupRow[],
  exceptions: readonly GroupRow[],
): ReconciliationReport {
  const reconciled = pick(payments, 'reconciled');
  const outstanding = pick(payments, 'paid');
  const mismatched = pick(exceptions, 'mismatched');
  const unmatched = pick(exceptions, 'unmatched');
  const duplicates = pick(exceptions, 'duplicate');
  return {
    ...scope,
    paid: add(reconciled, outstanding),
    reconciled,
    outstanding,
    exceptions: { mismatched, unmatched, duplicates, total: add(add(mismatched, unmatched), duplicates) },
    resolvedExceptions: pick(exceptions, RESOLVED),
    unnamedCredits: pick(exceptions, UNNAMED),
  };
}

/**
 * The JSON body, amounts in fen written as exact integers (JSON numbers have no size limit; JSON.stringify
 * cannot write a bigint). A JavaScript client reads a sum past 2^53 as the nearest double.
 */
export function reconciliationReportJson(r: ReconciliationReport): string {
  const figure = (f: Figure) => `{"count":${f.count},"amount":${f.amount.toString()}}`;
  const e = r.exceptions;
  return (
    `{"hospitalId":${JSON.stringify(r.hospitalId)},"from":${JSON.stringify(r.from)},"to":${JSON.stringify(r.to)},` +
    `"paid":${figure(r.paid)},"reconciled":${figure(r.reconciled)},"outstanding":${figure(r.outstanding)},` +
    `"exceptions":{"mismatched":${figure(e.mismatched)},"unmatched":${figure(e.unmatched)},"duplicates":${figure(e.duplicates)},"total":${figure(e.total)}},` +
    `"resolvedExceptions":${figure(r.resolvedExceptions)},` +
    `"unnamedCredits":${figure(r.unnamedCredits)}}`
  );
}

/** One line per figure, amounts in yuan with two decimals: `hospital_id,from,to,metric,count,amount,currency`. */
export function reconciliationReportCsv(r: ReconciliationReport): string {
  const figures: [string, Figure][] = [
    ['paid', r.paid],
    ['reconciled', r.reconciled],
    ['outstanding', r.outstanding],
    ['exceptions_mismatched', r.exceptions.mismatched],
    ['exceptions_unmatched', r.exceptions.unmatched],
    ['exceptions_duplicates', r.exceptions.duplicates],
    ['exceptions_total', r.exceptions.total],
    ['exceptions_resolved', r.resolvedExceptions],
    ['unnamed_credits', r.unnamedCredits],
  ];
  let out = csvLine(['hospital_id', 'from', 'to', 'metric', 'count', 'amount', 'currency']);
  for (const [metric, f] of figures) out += csvLine([r.hospitalId ?? 'all', r.from, r.to, metric, String(f.count), minorUnitsToDecimal(f.amount), 'CNY']);
  return out;
}

function pick(rows: readonly GroupRow[], status: string): Figure {
  const row = rows.find((r) => r.status === status);
  return row ? { count: Number(row.count), amount: BigInt(row.amount ?? 0) } : { count: 0, amount: 0n };
}

function add(a: Figure, b: Figure): Figure {
  return { count: a.count + b.count, amount: a.amount + b.amount };
}
