import { csvLine, formatYuan } from 'src/disbursements/payment-batch-csv';
import { ReconciliationReportDto } from 'src/reconciliation/dto/reconciliation.dto';

/** One aggregate row from SQL: a status, how many, and the sum in fen (pg returns both as text). */
export type GroupRow = { status: string; count: number | string; amount: number | string | null };
type AmountCount = { count: number; amount: number };

const ZERO: AmountCount = { count: 0, amount: 0 };

/**
 * The report from two aggregates: live (unreturned) payments made in the period, grouped by their tranche's
 * status now, and exception entries booked in the period, grouped by status. By construction
 * paid = reconciled + outstanding and exceptions.total = mismatched + unmatched + duplicates.
 */
export function buildReconciliationReport(
  scope: { hospitalId: string | null; from: string; to: string },
  payments: readonly GroupRow[],
  exceptions: readonly GroupRow[],
): ReconciliationReportDto {
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
  };
}

/** One line per figure, amounts in yuan with two decimals: `hospital_id,from,to,metric,count,amount,currency`. */
export function reconciliationReportCsv(r: ReconciliationReportDto): string {
  const figures: [string, AmountCount][] = [
    ['paid', r.paid],
    ['reconciled', r.reconciled],
    ['outstanding', r.outstanding],
    ['exceptions_mismatched', r.exceptions.mismatched],
    ['exceptions_unmatched', r.exceptions.unmatched],
    ['exceptions_duplicates', r.exceptions.duplicates],
    ['exceptions_total', r.exceptions.total],
  ];
  let out = csvLine(['hospital_id', 'from', 'to', 'metric', 'count', 'amount', 'currency']);
  for (const [metric, f] of figures) out += csvLine([r.hospitalId ?? 'all', r.from, r.to, metric, String(f.count), formatYuan(f.amount), 'CNY']);
  return out;
}

function pick(rows: readonly GroupRow[], status: string): AmountCount {
  const row = rows.find((r) => r.status === status);
  return row ? { count: toSafe(row.count), amount: toSafe(row.amount ?? 0) } : { ...ZERO };
}

function add(a: AmountCount, b: AmountCount): AmountCount {
  return { count: a.count + b.count, amount: toSafe(a.amount + b.amount) };
}

function toSafe(value: number | string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${value} is not a safe non-negative integer`);
  return n;
}
