import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuthUser } from 'src/common/auth/roles';
import { pageByCreatedAt } from 'src/common/pagination/created-at-page';
import { decodeCursor, Page, toPage } from 'src/common/pagination/pagination';
import { hospitalScope } from 'src/disbursements/disbursements.service';
import { BankStatement } from 'src/reconciliation/bank-statement.entity';
import { StatementDetailDto, StatementItemsQueryDto, StatementListQueryDto, StatementSummaryDto } from 'src/reconciliation/dto/reconciliation.dto';
import { StatementNotFoundException } from 'src/reconciliation/reconciliation.exceptions';
import { StatementEntry } from 'src/reconciliation/statement-entry.entity';
import { toStatementItem, toStatementSummary } from 'src/reconciliation/statement-view';

/** Reading imported statements, scoped: hospital finance sees only its hospital's (another's is not found). */
@Injectable()
export class StatementsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The statement and one page of its entries in file order (optionally only those in `status`). */
  async get(user: AuthUser, id: string, query: StatementItemsQueryDto): Promise<StatementDetailDto> {
    const qb = this.dataSource.getRepository(BankStatement).createQueryBuilder('s').where('s.id = :id', { id });
    if (user.role === 'hospital_finance') qb.andWhere('s.hospital_id = :hospitalId', { hospitalId: user.hospitalId ?? randomUUID() });
    const statement = await qb.getOne();
    if (!statement) throw new StatementNotFoundException();

    const after = decodeCursor(query.cursor, 'integer');
    const items = this.dataSource
      .getRepository(StatementEntry)
      .createQueryBuilder('e')
      .where('e.statement_id = :id', { id })
      .orderBy('e.position', 'ASC')
      .limit(query.limit + 1);
    if (query.status) items.andWhere('e.status = :status', { status: query.status });
    if (query.resolved) items.andWhere(query.resolved === 'true' ? 'e.resolved_at IS NOT NULL' : 'e.resolved_at IS NULL');
    if (after) items.andWhere('e.position > :position', { position: Number(after.k) });
    const page = toPage(await items.getMany(), query.limit, (e) => ({ k: String(e.position), id: e.id }), (e) => toStatementItem(e, user.role));
    return Object.assign(toStatementSummary(statement), page);
  }

  /** Newest first. */
  async list(user: AuthUser, query: StatementListQueryDto): Promise<Page<StatementSummaryDto>> {
    const hospitalId = hospitalScope(user, query.hospitalId);
    const qb = this.dataSource
      .getRepository(BankStatement)
      .createQueryBuilder('s')
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .limit(query.limit + 1);
    if (hospitalId) qb.andWhere('s.hospital_id = :hospitalId', { hospitalId });
    const after = decodeCursor(query.cursor, 'timestamp');
    if (after) qb.andWhere('(s.created_at, s.id) < (:k::timestamptz, :afterId::uuid)', { k: after.k, afterId: after.id });
    return pageByCreatedAt(qb, 's', query.limit, toStatementSummary);
  }
}
