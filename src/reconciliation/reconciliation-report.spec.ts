import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { buildReconciliationReport, GroupRow, reconciliationReportCsv } from 'src/reconciliation/reconciliation-report';

const scope = { hospitalId: '7d1c8f0e-1111-4c4c-8888-000000000001', from: '2026-09-01', to: '2026-09-30' };

describe('buildReconciliationReport', () => {
  it('reads the aggregates (pg text) and derives paid and the exception total', () => {
    const report = buildReconciliationReport(
      scope,
      [
        { status: 'paid', count: '2', amount: '3000000' },
        { status: 'reconciled', count: '3', amount: '12345678' },
      ],
      [
        { status: 'mismatched', count: '1', amount: '500000' },
        { status: 'unmatched', count: '4', amount: '1001' },
        { status: 'duplicate', count: '1', amount: '12345678' },
      ],
    );
    expect(report).toEqual({
      ...scope,
      paid: { count: 5, amount: 15_345_678 },
      reconciled: { count: 3, amount: 12_345_678 },
      outstanding: { count: 2, amount: 3_000_000 },
      exceptions: {
        mismatched: { count: 1, amount: 500_000 },
        unmatched: { count: 4, amount: 1001 },
        duplicates: { count: 1, amount: 12_345_678 },
        total: { count: 6, amount: 12_846_679 },
      },
    });
  });

  it('is all zeros without rows, and ignores statuses it does not report', () => {
    const report = buildReconciliationReport(scope, [{ status: 'cancelled', count: 9, amount: 9 }], [{ status: 'matched', count: 9, amount: 9 }, { status: 'ignored', count: 1, amount: 1 }]);
    expect(report.paid).toEqual({ count: 0, amount: 0 });
    expect(report.exceptions.total).toEqual({ count: 0, amount: 0 });
  });

  it('refuses sums past the safe integer range instead of rounding them', () => {
    expect(() => buildReconciliationReport(scope, [{ status: 'paid', count: 1, amount: '9007199254740993' }], [])).toThrow(RangeError);
  });

  it('always has paid = reconciled + outstanding and total = the three exception kinds', () => {
    const group = (status: string) => fc.record({ status: fc.constant(status), count: fc.nat(10_000), amount: fc.nat(1_000_000_000_000) });
    fc.assert(
      fc.property(fc.subarray(['paid', 'reconciled']).chain((s) => fc.tuple(...s.map(group))), fc.subarray(['mismatched', 'unmatched', 'duplicate']).chain((s) => fc.tuple(...s.map(group))), (payments, exceptions) => {
        const r = buildReconciliationReport(scope, payments as GroupRow[], exceptions as GroupRow[]);
        expect(r.paid.amount).toBe(r.reconciled.amount + r.outstanding.amount);
        expect(r.paid.count).toBe(r.reconciled.count + r.outstanding.count);
        const e = r.exceptions;
        expect(e.total.amount).toBe(e.mismatched.amount + e.unmatched.amount + e.duplicates.amount);
        expect(e.total.count).toBe(e.mismatched.count + e.unmatched.count + e.duplicates.count);
      }),
    );
  });
});

describe('reconciliationReportCsv', () => {
  it('writes one line per figure with yuan amounts', () => {
    const report = buildReconciliationReport({ ...scope, hospitalId: null }, [{ status: 'paid', count: 1, amount: 5_000_001 }], [{ status: 'unmatched', count: 2, amount: 7 }]);
    const rows = parse(reconciliationReportCsv(report)) as string[][];
    expect(rows[0]).toEqual(['hospital_id', 'from', 'to', 'metric', 'count', 'amount', 'currency']);
    expect(rows.slice(1).map((r) => [r[0], r[3], r[4], r[5]])).toEqual([
      ['all', 'paid', '1', '50000.01'],
      ['all', 'reconciled', '0', '0.00'],
      ['all', 'outstanding', '1', '50000.01'],
      ['all', 'exceptions_mismatched', '0', '0.00'],
      ['all', 'exceptions_unmatched', '2', '0.07'],
      ['all', 'exceptions_duplicates', '0', '0.00'],
      ['all', 'exceptions_total', '2', '0.07'],
    ]);
  });
});
