import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { buildReconciliationReport, GroupRow, reconciliationReportCsv, reconciliationReportJson } from 'src/reconciliation/reconciliation-report';

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
        { status: 'unnamed', count: '7', amount: '70000' },
        { status: 'resolved', count: '2', amount: '250' },
      ],
    );
    expect(report).toEqual({
      ...scope,
      paid: { count: 5, amount: 15_345_678n },
      reconciled: { count: 3, amount: 12_345_678n },
      outstanding: { count: 2, amount: 3_000_000n },
      exceptions: {
        mismatched: { count: 1, amount: 500_000n },
        unmatched: { count: 4, amount: 1001n },
        duplicates: { count: 1, amount: 12_345_678n },
        total: { count: 6, amount: 12_846_679n },
      },
      resolvedExceptions: { count: 2, amount: 250n },
      unnamedCredits: { count: 7, amount: 70_000n },
    });
  });

  it('is all zeros without rows, and ignores statuses it does not report', () => {
    const report = buildReconciliationReport(scope, [{ status: 'cancelled', count: 9, amount: 9 }], [{ status: 'matched', count: 9, amount: 9 }, { status: 'ignored', count: 1, amount: 1 }]);
    expect(report.paid).toEqual({ count: 0, amount: 0n });
    expect(report.exceptions.total).toEqual({ count: 0, amount: 0n });
  });

  it('adds sums past the safe integer range exactly', () => {
    const r = buildReconciliationReport(scope, [], [
      { status: 'mismatched', count: '10', amount: '10000000000000000' },
      { status: 'unmatched', count: '1', amount: '9007199254740993' },
    ]);
    expect(r.exceptions.total).toEqual({ count: 11, amount: 19_007_199_254_740_993n });
  });

  it('always has paid = reconciled + outstanding and total = the three exception kinds', () => {
    const group = (status: string) => fc.record({ status: fc.constant(status), count: fc.nat(10_000), amount: fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String) });
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

describe('reconciliationReportJson', () => {
  it('writes every amount as an exact JSON integer, and reads back as the report for amounts a double holds', () => {
    const report = buildReconciliationReport(scope, [{ status: 'paid', count: 1, amount: 5_000_001 }], [{ status: 'unmatched', count: 2, amount: '9007199254740993' }]);
    const json = reconciliationReportJson(report);
    expect(json).toContain('"unmatched":{"count":2,"amount":9007199254740993}');
    expect(JSON.parse(json)).toEqual({
      ...scope,
      paid: { count: 1, amount: 5_000_001 },
      reconciled: { count: 0, amount: 0 },
      outstanding: { count: 1, amount: 5_000_001 },
      exceptions: {
        mismatched: { count: 0, amount: 0 },
        unmatched: { count: 2, amount: 9007199254740992 },
        duplicates: { count: 0, amount: 0 },
        total: { count: 2, amount: 9007199254740992 },
      },
      resolvedExceptions: { count: 0, amount: 0 },
      unnamedCredits: { count: 0, amount: 0 },
    });
    expect(JSON.parse(reconciliationReportJson({ ...report, hospitalId: null })).hospitalId).toBeNull();
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
      ['all', 'exceptions_resolved', '0', '0.00'],
      ['all', 'unnamed_credits', '0', '0.00'],
    ]);
  });

  it('writes sums past 2^53 fen exactly', () => {
    const report = buildReconciliationReport(scope, [], [{ status: 'mismatched', count: 3, amount: '9007199254740993' }]);
    const rows = parse(reconciliationReportCsv(report)) as string[][];
    expect(rows.find((r) => r[3] === 'exceptions_total')?.[5]).toBe('90071992547409.93');
  });
});
