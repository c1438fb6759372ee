import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { AuthUser } from 'src/common/auth/roles';
import { IdempotencyService, IdempotentResult } from 'src/common/idempotency/idempotency.service';
import { decodeCursor, Page, toPage } from 'src/common/pagination/pagination';
import { InvalidInputException, ResourceNotFoundException } from 'src/common/problem/problem.exception';
import { Contribution } from 'src/fund/contribution.entity';
import { ContributionReversal } from 'src/fund/contribution-reversal.entity';
import { ContributionDto, ContributionPeriodDto, ContributionQueryDto, ContributionTotalsDto, CreateContributionDto, ReverseContributionDto } from 'src/fund/dto/contribution.dto';
import { FUND_TIME_ZONE } from 'src/fund/calendar-date';
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
  async list(query: ContributionQueryDto): Promise<Page<ContributionDto>> {
    const after = decodeCursor(query.cursor, 'date');
    const qb = this.withReversal(this.dataSource.getRepository(Contribution).createQueryBuilder('c'))
      .orderBy('c.received_on', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(query.limit + 1);
    if (after) qb.andWhere('(c.received_on, c.id) < (:k::date, :id::uuid)', { k: after.k, id: after.id });
    if (query.from) qb.andWhere('c.received_on >= :from::date', { from: query.from });
    if (query.to) qb.andWhere('c.received_on <= :to::date', { to: query.to });
    const rows = await qb.getMany();
    return toPage(rows, query.limit, (c) => ({ k: c.receivedOn, id: c.id }), ContributionDto.from);
  }

  /**
   * A period's donations and reversals: donations by the day they were received, reversals by the China day they were
   * made (a donation of November reversed in December is December's correction), as fund finance closes a month.
   */
  async totals(period: ContributionPeriodDto): Promise<ContributionTotalsDto> {
    // A period typed backwards reads as "no donations": refused, as the reconciliation report refuses it.
    if (period.from && period.to && period.from > period.to) throw new InvalidInputException([{ field: 'to', message: 'must not be before from' }]);
    const [row] = (await this.dataSource.query(
      `WITH received AS (
              SELECT count(*)::int AS n, coalesce(sum(c.amount), 0)::text AS amount FROM fund_contributions c
               WHERE ($1::date IS NULL OR c.received_on >= $1::date) AND ($2::date IS NULL OR c.received_on <= $2::date)),
            reversed AS (
              SELECT count(*)::int AS n, coalesce(sum(c.amount), 0)::text AS amount
                FROM fund_contribution_reversals r JOIN fund_contributions c ON c.id = r.contribution_id
               CROSS JOIN LATERAL (SELECT (r.reversed_at AT TIME ZONE $3)::date AS day) d
               WHERE ($1::date IS NULL OR d.day >= $1::date) AND ($2::date IS NULL OR d.day <= $2::date))
       SELECT received.n AS received_count, received.amount AS received_amount, reversed.n AS reversed_count, reversed.amount AS reversed_amount
         FROM received, reversed`,
      [period.from ?? null, period.to ?? null, FUND_TIME_ZONE],
    )) as { received_count: number; received_amount: string; reversed_count: number; reversed_amount: string }[];
    const received = Number(row.received_amount);
    const reversed = Number(row.reversed_amount);
    return {
      from: period.from ?? null,
      to: period.to ?? null,
      received: { count: row.received_count, amount: received },
      reversed: { count: row.reversed_count, amount: reversed },
      net: received - reversed,
    };
  }

  private withReversal(qb: SelectQueryBuilder<Contribution>): SelectQueryBuilder<Contribution> {
    return qb.leftJoinAndMapOne('c.reversal', ContributionReversal, 'r', 'r.contributionId = c.id');
  }
}
