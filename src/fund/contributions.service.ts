import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuthUser } from 'src/common/auth/roles';
import { IdempotencyService, IdempotentResult } from 'src/common/idempotency/idempotency.service';
import { decodeCursor, Page, PageQueryDto, toPage } from 'src/common/pagination/pagination';
import { Contribution } from 'src/fund/contribution.entity';
import { ContributionDto, CreateContributionDto } from 'src/fund/dto/contribution.dto';
import { DuplicateContributionException } from 'src/fund/fund.exceptions';
import { FundLedgerService } from 'src/fund/fund-ledger.service';

/** pg_advisory_xact_lock(class, hashtext(normalised reference)): one contribution per receipt at a time. */
const CONTRIBUTION_REFERENCE_LOCK = 727_007;
/** A reference as banks write it, the expression of fund_contributions_reference_normalized_idx. */
const NORMALIZED_REFERENCE = (value: string) => `upper(regexp_replace(${value}, '[[:space:]-]', '', 'g'))`;

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
        await this.refuseSameReceipt(tx, dto.reference);
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

  /**
   * The same receipt typed again with other letter case, spaces or hyphens is the same donation (409): recorded twice,
   * it would put money in the fund that never arrived. Under a lock on the normalised reference, so two such entries at
   * once cannot both pass; looked up through fund_contributions_reference_normalized_idx.
   */
  private async refuseSameReceipt(tx: EntityManager, reference: string): Promise<void> {
    // Normalised by PostgreSQL alone (as the index is), never also in JavaScript: the two disagree on what a space is.
    await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext(${NORMALIZED_REFERENCE('$2')}))`, [CONTRIBUTION_REFERENCE_LOCK, reference]);
    const [same] = (await tx.query(`SELECT 1 FROM fund_contributions WHERE ${NORMALIZED_REFERENCE('reference')} = ${NORMALIZED_REFERENCE('$1')} LIMIT 1`, [
      reference,
    ])) as unknown[];
    if (same) throw new DuplicateContributionException();
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
