import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ApplicationRecords } from 'src/applications/application-records';
import { scopedApplications } from 'src/applications/application-scope';
import { ApplicationNotFoundException } from 'src/applications/applications.exceptions';
import { AuthUser } from 'src/common/auth/roles';
import { decodeCursor, Page } from 'src/common/pagination/pagination';
import { DISBURSEMENT_SELECT, disbursementSelect, DisbursementRow, PAYEE_OUTDATED, toDisbursementDto } from 'src/disbursements/disbursement-view';
import { DisbursementNotFoundException, OtherHospitalException } from 'src/disbursements/disbursements.exceptions';
import { DisbursementDto, DisbursementQueryDto } from 'src/disbursements/dto/disbursement.dto';
import { toPage } from 'src/common/pagination/pagination';

/** Reading tranches, scoped to the caller. */
@Injectable()
export class DisbursementsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly records: ApplicationRecords,
  ) {}

  /**
   * The tranches of an application the caller can see (family: its own; staff; hospital finance: its hospital's). A
   * reviewer or admin whose conflict of interest bars them from the file: 403, as for its decisions (the amounts, the
   * reasons written for the family).
   */
  async forApplication(user: AuthUser, applicationId: string): Promise<Page<DisbursementDto>> {
    const visible = await scopedApplications(this.dataSource.manager, user).andWhere('a.id = :applicationId', { applicationId }).getExists();
    if (!visible) throw new ApplicationNotFoundException();
    await this.records.assertNotConflicted(this.dataSource.manager, user, applicationId);
    const rows = (await this.dataSource.query(`${DISBURSEMENT_SELECT} WHERE d.application_id = $1 ORDER BY d.tranche_number`, [applicationId])) as DisbursementRow[];
    return { items: rows.map((r) => toDisbursementDto(r, user)), nextCursor: null };
  }

  /**
   * Oldest first (the order they were scheduled in), filtered by status, hospital and payeeOutdated. The page is chosen
   * from disbursements alone (joining hospitals only to filter on payeeOutdated), then joined: an unfiltered list, which
   * no index orders, sorts the tranches rather than every tranche joined to its hospital and payment.
   */
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
    // Spelled out beside PAYEE_OUTDATED (which implies it) so that the scan stays on disbursements_status_idx.
    if (query.payeeOutdated === true) where.push(`d.status IN ('scheduled', 'returned') AND ${PAYEE_OUTDATED}`);
    if (query.payeeOutdated === false) where.push(`NOT ${PAYEE_OUTDATED}`);
    const after = decodeCursor(query.cursor, 'timestamp');
    if (after) {
      params.push(after.k, after.id);
      where.push(`(d.created_at, d.id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(query.limit + 1);
    const page = `SELECT d.* FROM disbursements d ${query.payeeOutdated === undefined ? '' : 'JOIN hospitals h ON h.id = d.hospital_id'}
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.created_at, d.id LIMIT $${params.length}`;
    const rows = (await this.dataSource.query(`${disbursementSelect(`(${page})`)} ORDER BY d.created_at, d.id`, params)) as DisbursementRow[];
    return toPage(rows, query.limit, (r) => ({ k: r.cursor_at, id: r.id }), (r) => toDisbursementDto(r, user));
  }

  /** GET /disbursements/:id: as get, and 403 to a reviewer or admin whose conflict of interest bars them from the case. */
  async read(user: AuthUser, id: string): Promise<DisbursementDto> {
    const tranche = await this.get(user, id);
    await this.records.assertNotConflicted(this.dataSource.manager, user, tranche.applicationId);
    return tranche;
  }

  /** One tranche the caller can see; hospital finance only its hospital's (another's is not found). */
  async get(user: AuthUser, id: string, manager: EntityManager = this.dataSource.manager): Promise<DisbursementDto> {
    const rows = (await manager.query(`${DISBURSEMENT_SELECT} WHERE d.id = $1`, [id])) as DisbursementRow[];
    const row = rows[0];
    if (!row || (user.role === 'hospital_finance' && row.hospital_id !== user.hospitalId)) throw new DisbursementNotFoundException();
    return toDisbursementDto(row, user);
  }
}

/** The hospital a list is limited to: hospital finance always its own (naming another → 403); others what they asked. */
export function hospitalScope(user: AuthUser, requested: string | undefined): string | undefined {
  if (user.role !== 'hospital_finance') return requested;
  if (!user.hospitalId || (requested && requested !== user.hospitalId)) throw new OtherHospitalException();
  return user.hospitalId;
}
