import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { scopedApplications } from 'src/applications/application-scope';
import { ApplicationNotFoundException } from 'src/applications/applications.exceptions';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { decodeCursor, Page } from 'src/common/pagination/pagination';
import { DISBURSEMENT_SELECT, DisbursementRow, toDisbursementDto } from 'src/disbursements/disbursement-view';
import { DisbursementNotFoundException, OtherHospitalException } from 'src/disbursements/disbursements.exceptions';
import { DisbursementDto, DisbursementQueryDto, ExportQueryDto } from 'src/disbursements/dto/disbursement.dto';
import { paymentBatchCsv } from 'src/disbursements/payment-batch-csv';
import { toPage } from 'src/common/pagination/pagination';

/** Reading tranches, scoped to the caller, and the payment batch file. */
@Injectable()
export class DisbursementsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** The tranches of an application the caller can see (family: its own; staff; hospital finance: its hospital's). */
  async forApplication(user: AuthUser, applicationId: string): Promise<Page<DisbursementDto>> {
    const visible = await scopedApplications(this.dataSource.manager, user).andWhere('a.id = :applicationId', { applicationId }).getExists();
    if (!visible) throw new ApplicationNotFoundException();
    const rows = (await this.dataSource.query(`${DISBURSEMENT_SELECT} WHERE d.application_id = $1 ORDER BY d.tranche_number`, [applicationId])) as DisbursementRow[];
    return { items: rows.map((r) => toDisbursementDto(r, user.role)), nextCursor: null };
  }

  /** Oldest first (the order they were scheduled in), filtered by status and hospital. */
  async list(user: AuthUser, query: DisbursementQueryDto): Promise<Page<DisbursementDto>> {
    const hospitalId = hospitalScope(user, query.hospitalId);
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (hospitalId) add('d.hospital_id = ?', hospitalId);
    if (query.status) add('d.status = ?', query.status);
    const after = decodeCursor(query.cursor, 'timestamp');
    if (after) {
      params.push(after.k, after.id);
      where.push(`(d.created_at, d.id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(query.limit + 1);
    const rows = (await this.dataSource.query(
      `${DISBURSEMENT_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.created_at, d.id LIMIT $${params.length}`,
      params,
    )) as DisbursementRow[];
    return toPage(rows, query.limit, (r) => ({ k: r.cursor_at, id: r.id }), (r) => toDisbursementDto(r, user.role));
  }

  /** One tranche the caller can see; hospital finance only its hospital's (another's is not found). */
  async get(user: AuthUser, id: string, manager: EntityManager = this.dataSource.manager): Promise<DisbursementDto> {
    const rows = (await manager.query(`${DISBURSEMENT_SELECT} WHERE d.id = $1`, [id])) as DisbursementRow[];
    const row = rows[0];
    if (!row || (user.role === 'hospital_finance' && row.hospital_id !== user.hospitalId)) throw new DisbursementNotFoundException();
    return toDisbursementDto(row, user.role);
  }

  /**
   * The payment batch file of every tranche in `status` (default scheduled), oldest first. Audited: it carries bank
   * accounts. A file of scheduled tranches is one the bank may execute: each tranche in it is stamped (exportedAt), so
   * that cancelling it asks whether the bank will pay it (GrantCancellationService), and the audit event says how many
   * of them had gone out in an earlier file already.
   */
  async exportCsv(user: AuthUser, query: ExportQueryDto): Promise<{ csv: string; count: number }> {
    return this.dataSource.transaction(async (tx) => {
      const params: unknown[] = [query.status];
      if (query.hospitalId) params.push(query.hospitalId);
      const rows = (await tx.query(
        `SELECT d.id, d.exported_at, d.reference, h.name AS hospital, d.payee_bank_name, d.payee_account_name, d.payee_account_number, d.amount::text AS amount
           FROM disbursements d JOIN hospitals h ON h.id = d.hospital_id
          WHERE d.status = $1 ${query.hospitalId ? 'AND d.hospital_id = $2' : ''}
          -- A grant's tranches share created_at: in tranche order, the order every money path locks them in.
          ORDER BY d.created_at, d.application_id, d.tranche_number
          -- A payment file: its tranches cannot be paid or cancelled between this read and their stamp below.
          ${query.status === 'scheduled' ? 'FOR UPDATE OF d' : ''}`,
        params,
      )) as {
        id: string;
        exported_at: Date | null;
        reference: string;
        hospital: string;
        payee_bank_name: string;
        payee_account_name: string;
        payee_account_number: string;
        amount: string;
      }[];
      const csv = paymentBatchCsv(
        rows.map((r) => ({
          reference: r.reference,
          hospital: r.hospital,
          bankName: r.payee_bank_name,
          accountName: r.payee_account_name,
          accountNumber: r.payee_account_number,
          amount: Number(r.amount),
        })),
      );
      const paymentFile = query.status === 'scheduled' && rows.length > 0;
      const exportedAt = new Date();
      if (paymentFile) {
        await tx.query(`UPDATE disbursements SET exported_at = $2 WHERE id = ANY($1::uuid[])`, [rows.map((r) => r.id), exportedAt]);
      }
      await this.audit.record(tx, {
        actor: user,
        action: 'disbursements.exported',
        objectType: 'disbursement',
        summary: {
          status: query.status,
          hospitalId: query.hospitalId ?? null,
          count: rows.length,
          ...(paymentFile ? { exportedAt: exportedAt.toISOString(), previouslyExported: rows.filter((r) => r.exported_at).length } : {}),
        },
      });
      return { csv, count: rows.length };
    });
  }
}

/** The hospital a list is limited to: hospital finance always its own (naming another → 403); others what they asked. */
export function hospitalScope(user: AuthUser, requested: string | undefined): string | undefined {
  if (user.role !== 'hospital_finance') return requested;
  if (!user.hospitalId || (requested && requested !== user.hospitalId)) throw new OtherHospitalException();
  return user.hospitalId;
}
