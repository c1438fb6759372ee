import type { DataSource, EntityManager } from 'typeorm';
import type { FundLedgerService } from 'src/fund/fund-ledger.service';
import { ReportsService } from 'src/reports/reports.service';

describe('ReportsService.summary', () => {
  it('reads every figure in one read-only REPEATABLE READ snapshot, so totals and the fund position agree', async () => {
    const seen: string[] = [];
    const tx = {
      query: async (sql: string) => {
        seen.push(sql.trim().split(/\s+/).slice(0, 3).join(' '));
        return [];
      },
    } as unknown as EntityManager;
    const isolations: string[] = [];
    const dataSource = {
      transaction: async (isolation: string, work: (m: EntityManager) => Promise<unknown>) => {
        isolations.push(isolation);
        return work(tx);
      },
      query: () => {
        throw new Error('a query outside the snapshot');
      },
    } as unknown as DataSource;
    const balancesOn: unknown[] = [];
    const ledger = {
      balances: async (on?: EntityManager) => {
        balancesOn.push(on);
        return { received: 0, available: 0, committed: 0, disbursed: 0 };
      },
    } as unknown as FundLedgerService;

    const summary = await new ReportsService(dataSource, ledger).summary({});

    expect(isolations).toEqual(['REPEATABLE READ']);
    expect(seen[0]).toBe('SET TRANSACTION READ');
    expect(seen).toHaveLength(4);
    expect(balancesOn).toEqual([tx]);
    expect(summary.totals).toEqual({ approved: 0, disbursed: 0, returned: 0, reconciled: 0 });
  });
});
