import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APPLICATION_STATUSES } from 'src/applications/application-status';
import { InvalidInputException } from 'src/common/problem/problem.exception';
import { returnDay } from 'src/disbursements/disbursement-payment.entity';
import { FundLedgerService } from 'src/fund/fund-ledger.service';
import { SummaryDto, SummaryQueryDto } from 'src/reports/dto/summary.dto';

type Row = {
  hospital_id: string | null;
  month: string | null;
  whole: boolean;
  submitted: string;
  grants: string;
  approved: string;
  disbursed: string;
  returned: string;
  reconciled: string;
};

/**
 * Every money event as one row (submission, final approval, payment, return of a payment, reconciliation), dated on
 * the Asia/Shanghai calendar, then totalled per hospital, per month and overall in one pass (GROUPING SETS).
 * A payment counts as disbursed in the period it was made, and as returned in the period the bank returned it (as
 * sales and refunds are reported): a return does not restate its payment's month, and disbursed less returned over all
 * periods equals the payments still standing (the fund's disbursed). The days are the bank's (paidOn, returnedOn), which
 * fund finance may record days later: a past month can still gain a payment or a return recorded after it ended.
 */
const SUMMARY_SQL = `
  WITH events AS (
    SELECT a.hospital_id, (a.first_submitted_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
           1 AS submitted, 0 AS grants, 0::bigint AS approved, 0::bigint AS disbursed, 0::bigint AS returned, 0::bigint AS reconciled
      FROM applications a WHERE a.first_submitted_at IS NOT NULL
    UNION ALL
    SELECT a.hospital_id, (d.decided_at AT TIME ZONE 'Asia/Shanghai')::date, 0, 1, d.amount, 0, 0, 0
      FROM decisions d JOIN applications a ON a.id = d.application_id WHERE d.kind IN ('approval', 'second_approval')
    UNION ALL
    SELECT ds.hospital_id, p.paid_on, 0, 0, 0, p.amount, 0, 0
      FROM disbursement_payments p JOIN disbursements ds ON ds.id = p.disbursement_id
    UNION ALL
    SELECT ds.hospital_id, ${returnDay('p')}, 0, 0, 0, 0, p.amount, 0
      FROM disbursement_payments p JOIN disbursements ds ON ds.id = p.disbursement_id WHERE p.returned_at IS NOT NULL
    UNION ALL
    SELECT ds.hospital_id, (ds.reconciled_at AT TIME ZONE 'Asia/Shanghai')::date, 0, 0, 0, 0, 0, ds.amount
      FROM disbursements ds WHERE ds.status = 'reconciled'
  )
  SELECT hospital_id, to_char(date_trunc('month', day), 'YYYY-MM') AS month,
         GROUPING(hospital_id, date_trunc('month', day)) = 3 AS whole,
         sum(submitted) AS submitted, sum(grants) AS grants, sum(approved) AS approved,
         sum(disbursed) AS disbursed, sum(returned) AS returned, sum(reconciled) AS reconciled
    FROM events
   WHERE ($1::date IS NULL OR day >= $1::date) AND ($2::date IS NULL OR day <= $2::date)
   GROUP BY GROUPING SETS ((hospital_id), (date_trunc('month', day)), ())`;

@Injectable()
export class ReportsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ledger: FundLedgerService,
  ) {}

  async summary(query: SummaryQueryDto): Promise<SummaryDto> {
    const from = query.from ?? null;
    const to = query.to ?? null;
    if (from && to && from > to) throw new InvalidInputException([{ field: 'to', message: 'must not be before from' }]);

    // One snapshot: a payment or return committing between the queries made totals.disbursed − totals.returned
    // disagree with fund.disbursed in the same answer.
    const { statusRows, rows, hospitals, fund } = await this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      return {
        statusRows: (await tx.query(`SELECT status, count(*)::int AS n FROM applications GROUP BY status`)) as { status: string; n: number }[],
        rows: (await tx.query(SUMMARY_SQL, [from, to])) as Row[],
        hospitals: (await tx.query(`SELECT id, code, name FROM hospitals`)) as { id: string; code: string; name: string }[],
        fund: await this.ledger.balances(tx),
      };
    });

    const applicationsByStatus = Object.fromEntries(APPLICATION_STATUSES.map((s) => [s, 0]));
    for (const r of statusRows) applicationsByStatus[r.status] = r.n;
    const names = new Map(hospitals.map((h) => [h.id, h]));
    const totals = (r?: Row) => ({ approved: num(r?.approved), disbursed: num(r?.disbursed), returned: num(r?.returned), reconciled: num(r?.reconciled) });
    const counts = (r: Row) => ({ submitted: num(r.submitted), grants: num(r.grants) });

    return {
      from,
      to,
      applicationsByStatus,
      totals: totals(rows.find((r) => r.whole)),
      fund,
      byHospital: rows
        .filter((r) => !r.whole && r.hospital_id !== null && r.month === null)
        .map((r) => ({
          hospitalId: r.hospital_id as string,
          hospitalCode: names.get(r.hospital_id as string)?.code ?? '',
          hospitalName: names.get(r.hospital_id as string)?.name ?? '',
          ...counts(r),
          ...totals(r),
        }))
        .sort((a, b) => a.hospitalCode.localeCompare(b.hospitalCode)),
      byMonth: rows
        .filter((r) => !r.whole && r.month !== null)
        .map((r) => ({ month: r.month as string, ...counts(r), ...totals(r) }))
        .sort((a, b) => a.month.localeCompare(b.month)),
    };
  }
}

/** Sums arrive as numeric strings; every total is integer fen far below 2^53. */
const num = (value: string | undefined): number => (value === undefined || value === null ? 0 : Number(value));
