import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { PAYEE_OUTDATED } from 'src/disbursements/disbursement-view';
import { InvalidInputException } from 'src/common/problem/problem.exception';
import { PayeesOutdatedException, PaymentFileNotFoundException } from 'src/disbursements/disbursements.exceptions';
import { ExportQueryDto } from 'src/disbursements/dto/disbursement.dto';
import { paymentBatchCsv } from 'src/disbursements/payment-batch-csv';

type ExportRow = {
  id: string;
  exported_at: Date | null;
  reference: string;
  hospital_id: string;
  hospital: string;
  payee_bank_name: string;
  payee_account_name: string;
  payee_account_number: string;
  amount: string;
  payee_outdated: boolean;
};

export type PaymentFileExport = {
  csv: string;
  /** Of a payment file's tranches paying into an account their hospital no longer has: left out, or put in as asked. */
  outdatedPayees: { excluded: number; included: number } | null;
  /** Of a payment file's tranches already in an earlier file: left out, or put in again as asked. */
  alreadyExported: { excluded: number; included: number } | null;
  /** The stamp a payment file's tranches carry (the one reissue names): this file's, or the reissued file's. */
  paymentFileStamp: Date | null;
};

/** The payment batch file (GET /disbursements/export). */
@Injectable()
export class PaymentFileExportService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /**
   * Every tranche in `status` (default scheduled), oldest first. Audited: it carries bank accounts. A file of scheduled
   * tranches is one the bank may execute: each tranche in it is stamped (exportedAt), so that cancelling it asks whether
   * the bank will pay it (GrantCancellationService), and the audit event says how many of them had gone out in an
   * earlier file already. A scheduled tranche whose payee is no longer its hospital's account goes in only when asked
   * (`outdatedPayees`; left out by default): an admin corrected a wrong, closed or compromised account, and only fund
   * finance moves money. A scheduled tranche already in an earlier file goes in again only when asked (`alreadyExported`;
   * left out by default): the bank would pay it twice if both files were sent. `reissue` gives one earlier file again
   * (its tranches still scheduled, by their stamp), for a file that never reached the bank.
   */
  async exportCsv(user: AuthUser, query: ExportQueryDto): Promise<PaymentFileExport> {
    const paymentFile = query.status === 'scheduled';
    if (query.reissue && !paymentFile) {
      throw new InvalidInputException([{ field: 'reissue', message: 'reissues a payment file: status must be scheduled' }]);
    }
    const reissued = query.reissue ? new Date(query.reissue) : null;
    return this.dataSource.transaction(async (tx) => {
      const params: unknown[] = [query.status];
      const where = ['d.status = $1'];
      if (query.hospitalId) where.push(`d.hospital_id = $${params.push(query.hospitalId)}`);
      if (reissued) where.push(`date_trunc('milliseconds', d.exported_at) = $${params.push(reissued)}`); // as the API writes exportedAt
      const rows = (await tx.query(
        `SELECT d.id, d.exported_at, d.reference, d.hospital_id, h.name AS hospital, d.payee_bank_name, d.payee_account_name, d.payee_account_number,
                d.amount::text AS amount, ${PAYEE_OUTDATED} AS payee_outdated
           FROM disbursements d JOIN hospitals h ON h.id = d.hospital_id
          WHERE ${where.join(' AND ')}
          -- A grant's tranches share created_at: in tranche order, the order every money path locks them in.
          ORDER BY d.created_at, d.application_id, d.tranche_number
          -- A payment file: its tranches cannot be paid or cancelled between this read and their stamp below, and an
          -- admin's correction of a hospital's account in flight is waited for, not read past (as a repoint does).
          ${paymentFile ? 'FOR UPDATE OF d FOR SHARE OF h' : ''}`,
        params,
      )) as ExportRow[];
      if (reissued && rows.length === 0) throw new PaymentFileNotFoundException(reissued.toISOString());
      // First the tranches of earlier files (a reissue is one of them, whole), then the payees of what would go in.
      const leaveOutExported = paymentFile && !reissued && query.alreadyExported === 'exclude';
      const candidates = leaveOutExported ? rows.filter((r) => !r.exported_at) : rows;
      const outdated = paymentFile ? candidates.filter((r) => r.payee_outdated) : [];
      if (outdated.length && query.outdatedPayees === 'refuse') {
        throw new PayeesOutdatedException(outdated.map((r) => ({ reference: r.reference, hospitalId: r.hospital_id })));
      }
      const lines = outdated.length && query.outdatedPayees === 'exclude' ? candidates.filter((r) => !r.payee_outdated) : candidates;
      const csv = paymentBatchCsv(
        lines.map((r) => ({
          reference: r.reference,
          hospital: r.hospital,
          bankName: r.payee_bank_name,
          accountName: r.payee_account_name,
          accountNumber: r.payee_account_number,
          amount: Number(r.amount),
        })),
      );
      // A reissue keeps its tranches' stamp: it is the same file, and can be reissued again.
      const stamped = paymentFile && !reissued && lines.length > 0;
      const exportedAt = new Date();
      if (stamped) {
        await tx.query(`UPDATE disbursements SET exported_at = $2 WHERE id = ANY($1::uuid[])`, [lines.map((r) => r.id), exportedAt]);
      }
      const outdatedExcluded = candidates.length - lines.length;
      const exportedExcluded = rows.length - candidates.length;
      const exportedIncluded = lines.filter((r) => r.exported_at).length;
      await this.audit.record(tx, {
        actor: user,
        action: 'disbursements.exported',
        objectType: 'disbursement',
        summary: {
          status: query.status,
          hospitalId: query.hospitalId ?? null,
          count: lines.length,
          ...(stamped ? { exportedAt: exportedAt.toISOString(), previouslyExported: exportedIncluded } : {}),
          ...(reissued ? { reissueOf: reissued.toISOString() } : {}),
          ...(paymentFile ? { alreadyExportedExcluded: exportedExcluded } : {}),
          ...(outdated.length ? { outdatedPayees: query.outdatedPayees, outdatedPayeeReferences: outdated.map((r) => r.reference) } : {}),
        },
      });
      return {
        csv,
        outdatedPayees: paymentFile ? { excluded: outdatedExcluded, included: outdated.length - outdatedExcluded } : null,
        alreadyExported: paymentFile ? { excluded: exportedExcluded, included: exportedIncluded } : null,
        paymentFileStamp: stamped ? exportedAt : (reissued ?? null),
      };
    });
  }
}
