import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthUser } from 'src/common/auth/roles';
import { InvalidInputException } from 'src/common/problem/problem.exception';
import { hospitalScope } from 'src/disbursements/disbursements.service';
import { isCalendarDate } from 'src/fund/calendar-date';
import { ReportQueryDto } from 'src/reconciliation/dto/reconciliation.dto';
import { REPEATED_ENTRY_REASON } from 'src/reconciliation/entry-fingerprint';
import { awaitedAmountsSql, NO_REFERENCE_REASON } from 'src/reconciliation/matching';
import { buildReconciliationReport, GroupRow, ReconciliationReport, RESOLVED, UNNAMED } from 'src/reconciliation/reconciliation-report';

/** GET /reconciliation/report: paid, reconciled, outstanding and exceptions of one hospital (or all) over a period. */
@Injectable()
export class ReconciliationReportService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async report(user: AuthUser, query: ReportQueryDto): Promise<ReconciliationReport> {
    const errors = [];
    if (!isCalendarDate(query.from)) errors.push({ field: 'from', message: 'must be a real date YYYY-MM-DD' });
    if (!isCalendarDate(query.to)) errors.push({ field: 'to', message: 'must be a real date YYYY-MM-DD' });
    if (!errors.length && query.from > query.to) errors.push({ field: 'to', message: 'must not be before from' });
    if (errors.length) throw new InvalidInputException(errors);
    const hospitalId = hospitalScope(user, query.hospitalId) ?? null;

    // Both aggregates in one snapshot, so a match committing in between cannot make the figures disagree.
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      const payments = (await tx.query(
        `SELECT d.status, count(*)::text AS count, coalesce(sum(p.amount), 0)::text AS amount
           FROM disbursement_payments p JOIN disbursements d ON d.current_payment_id = p.id
          WHERE p.returned_at IS NULL AND p.paid_on BETWEEN $1::date AND $2::date AND ($3::uuid IS NULL OR d.hospital_id = $3)
          GROUP BY d.status`,
        [query.from, query.to, hospitalId],
      )) as GroupRow[];
      // Exceptions are the entries that need a person. A repeat of a bank entry already imported (a month's statement
      // after the daily ones) needs no one: its first import is counted, if it needs anyone. A separate entry for a
      // tranche already reconciled, or matched earlier in its file, does.
      // A credit naming no Sprout reference is the hospital's own business (its patients paying their bills) as far as
      // Sprout can tell: counted apart, not as an exception, as the exceptions email does — unless it has the amount of
      // a tranche paid, or sent in a payment file, and not yet reconciled (its reference may have been lost on the way).
      // One a person resolved needs no one any more: counted apart (a credit naming nothing of the fund's stays where
      // it was, resolved or not: it was never an exception).
      const exceptions = (await tx.query(
        `SELECT CASE WHEN status = 'unmatched' AND reason = $5
                      AND amount NOT IN (${awaitedAmountsSql('e.hospital_id')})
                     THEN '${UNNAMED}'
                     WHEN resolved_at IS NOT NULL THEN '${RESOLVED}' ELSE status END AS status,
                count(*)::text AS count, coalesce(sum(amount), 0)::text AS amount
           FROM statement_entries e
          WHERE booking_date BETWEEN $1::date AND $2::date AND ($3::uuid IS NULL OR hospital_id = $3)
            AND (status IN ('mismatched','unmatched') OR (status = 'duplicate' AND reason IS DISTINCT FROM $4))
          GROUP BY 1`,
        [query.from, query.to, hospitalId, REPEATED_ENTRY_REASON, NO_REFERENCE_REASON],
      )) as GroupRow[];
      return buildReconciliationReport({ hospitalId, from: query.from, to: query.to }, payments, exceptions);
    });
  }
}
