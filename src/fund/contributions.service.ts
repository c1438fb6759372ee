import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthUser } from 'src/common/auth/roles';
import { IdempotencyService, IdempotentResult } from 'src/common/idempotency/idempotency.service';
import { decodeCursor, Page, PageQueryDto, toPage } from 'src/common/pagination/pagination';
import { Contribution } from 'src/fund/contribution.entity';
import { ContributionDto, CreateContributionDto } from 'src/fund/dto/contribution.dto';
import { DuplicateContributionException } from 'src/fund/fund.exceptions';
import { FundLedgerService } from 'src/fund/fund-ledger.service';

@Injectable()
export class ContributionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ledger: FundLedgerService,
    private readonly idempotency: IdempotencyService,
  ) {}

  /** Records a donation and moves it donations → available, in one transaction; the reference is unique. */
  async record(dto: CreateContributionDto, actor: AuthUser, idempotencyKey: string | undefined): Promise<IdempotentResult<ContributionDto>> {
    const request = { key: idempotencyKey, principal: actor.id, operation: 'POST /fund/contributions', payload: dto };
    try {
      return await this.idempotency.execute(request, 201, async (tx) => {
        const contribution = await tx.save(
          Contribution,
          tx.create(Contribution, { amount: dto.amount, donorName: dto.donorName, receivedOn: dto.receivedOn, reference: dto.reference, recordedBy: actor.id }),
        );
        await this.ledger.recordContribution(tx, { contributionId: contribution.id, amount: dto.amount, actor });
        return ContributionDto.from(contribution);
      });
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code === '23505' && constraint === 'fund_contributions_reference_key') throw new DuplicateContributionException();
      throw error;
    }
  }

  /** Newest receipt first. */
  async list(query: PageQueryDto): Promise<Page<ContributionDto>> {
    const after = decodeCursor(query.cursor, 'date');
    const qb = this.dataSource
      .getRepository(Contribution)
      .createQueryBuilder('c')
      .orderBy('c.received_on', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(query.limit + 1);
    if (after) qb.where('(c.received_on, c.id) < (:k::date, :id::uuid)', { k: after.k, id: after.id });
    const rows = await qb.getMany();
    return toPage(rows, query.limit, (c) => ({ k: c.receivedOn, id: c.id }), ContributionDto.from);
  }
}
