import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { AuthUser } from 'src/common/auth/roles';
import { IdempotencyService, IdempotentResult } from 'src/common/idempotency/idempotency.service';
import { decodeCursor, Page, PageQueryDto, toPage } from 'src/common/pagination/pagination';
import { ResourceNotFoundException } from 'src/common/problem/problem.exception';
import { Contribution } from 'src/fund/contribution.entity';
import { ContributionReversal } from 'src/fund/contribution-reversal.entity';
import { ContributionDto, CreateContributionDto, ReverseContributionDto } from 'src/fund/dto/contribution.dto';
import { DuplicateContributionException } from 'src/fund/fund.exceptions';
import { FundLedgerService } from 'src/fund/fund-ledger.service';

/** One contribution per receipt: the reference as the database keys it, however it was typed (migration ContributionReferenceKeys). */
const SAME_RECEIPT = 'fund_contributions_normalized_reference_key';

@Injectable()
export class ContributionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ledger: FundLedgerService,
    private readonly idempotency: IdempotencyService,
  ) {}

  /**
   * Records a donation and moves it donations → available, in one transaction. The same receipt typed again (other
   * letter case, spaces, dashes, full-width characters) is the same donation: 409, unless the earlier one was reversed.
   * Recorded twice, it would put money in the fund that never arrived.
   */
  async record(dto: CreateContributionDto, actor: AuthUser, idempotencyKey: string | undefined): Promise<IdempotentResult<ContributionDto>> {
    const request = { key: idempotencyKey, principal: actor.id, operation: 'POST /fund/contributions', payload: dto };
    try {
      return await this.idempotency.execute(request, 201, async (tx) => {
        const contribution = await tx.save(
          Contribution,
          tx.create(Contribution, { amount: dto.amount, donorName: dto.donorName, receivedOn: dto.receivedOn, reference: dto.reference, recordedBy: actor.id }),
        );
        await this.ledger.recordContribution(tx, { contributionId: contribution.id, amount: dto.amount, actor });
        return ContributionDto.from({ ...contribution, reversal: null });
      });
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code === '23505' && constraint === SAME_RECEIPT) throw new DuplicateContributionException();
      throw error;
    }
  }

  /**
   * Takes a contribution recorded by mistake back out of the fund, whole (available → donations), and records who did
   * it and why, with the movement's audit event, in one transaction.
   */
  async reverse(id: string, dto: ReverseContributionDto, actor: AuthUser, idempotencyKey: string | undefined): Promise<IdempotentResult<ContributionDto>> {
    const request = { key: idempotencyKey, principal: actor.id, operation: `POST /fund/contributions/${id}/reverse`, payload: dto };
    return this.idempotency.execute(request, 200, async (tx) => {
      const contribution = await tx.findOneBy(Contribution, { id });
      if (!contribution) throw new ResourceNotFoundException('Contribution');
      const posting = await this.ledger.reverseContribution(tx, { contributionId: id, amount: contribution.amount, actor });
      await tx.insert(ContributionReversal, { contributionId: id, journalTransactionId: posting.journalTransactionId, reason: dto.reason, reversedBy: actor.id });
      const reversed = await this.withReversal(tx.getRepository(Contribution).createQueryBuilder('c')).where('c.id = :id', { id }).getOneOrFail();
      return ContributionDto.from(reversed);
    });
  }

  /** Newest receipt first, each with its reversal if it was reversed. */
  async list(query: PageQueryDto): Promise<Page<ContributionDto>> {
    const after = decodeCursor(query.cursor, 'date');
    const qb = this.withReversal(this.dataSource.getRepository(Contribution).createQueryBuilder('c'))
      .orderBy('c.received_on', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(query.limit + 1);
    if (after) qb.where('(c.received_on, c.id) < (:k::date, :id::uuid)', { k: after.k, id: after.id });
    const rows = await qb.getMany();
    return toPage(rows, query.limit, (c) => ({ k: c.receivedOn, id: c.id }), ContributionDto.from);
  }

  private withReversal(qb: SelectQueryBuilder<Contribution>): SelectQueryBuilder<Contribution> {
    return qb.leftJoinAndMapOne('c.reversal', ContributionReversal, 'r', 'r.contributionId = c.id');
  }
}
