import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApplicationRecords } from 'src/applications/application-records';
import { VISIBILITY } from 'src/applications/application-visibility';
import { AuditEvent } from 'src/audit/audit-event.entity';
import { AuthUser } from 'src/common/auth/roles';
import { decodeCursor, Page, PageQueryDto, toPage } from 'src/common/pagination/pagination';
import { InvalidInputException } from 'src/common/problem/problem.exception';
import { ChangesDto, DecisionDto, HistoryEventDto, InfoRequestDto } from 'src/review/dto/review-records.dto';
import { changedFields } from 'src/review/field-changes';
import { FieldSnapshots } from 'src/review/field-snapshots';
import { InfoRequest } from 'src/review/info-request.entity';
import { DecisionKind } from 'src/review/decision.entity';
import { ReviewDecisions } from 'src/review/review-decisions';

/**
 * A first approval is the fund's deliberation until a second reviewer confirms it: a family later refused should not
 * read that one reviewer had approved an amount. The family reads final decisions only.
 */
const FAMILY_DECISIONS: ReadonlySet<DecisionKind> = new Set(['approval', 'second_approval', 'rejection']);

/**
 * What the family's history leaves out: the first approval (as above), the fund's ledger events (`fund.*`, which
 * mirror the application's and its tranches' own events in accounting terms), and from the summaries the amount a
 * rejection released from a first approval, the ledger's internal ids, and the hospital's statement and entry ids of a
 * reconciliation (its finance office's records, not the family's).
 */
const FAMILY_HIDDEN = { actions: ['application.first_approval'], summaryKeys: ['released', 'journalTransactionId', 'statementId', 'entryId'] };

function withoutKeys(summary: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  if (!keys.some((key) => key in summary)) return summary;
  return Object.fromEntries(Object.entries(summary).filter(([key]) => !keys.includes(key)));
}

/** What the record says about one application: its decisions, the information rounds, and its audit history. */
@Injectable()
export class ReviewRecordsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly records: ApplicationRecords,
    private readonly decisions: ReviewDecisions,
    private readonly snapshots: FieldSnapshots,
  ) {}

  async decisionsOf(user: AuthUser, id: string): Promise<DecisionDto[]> {
    await this.records.findReadable(this.dataSource.manager, user, id);
    const family = user.role === 'applicant';
    const reader = { freeText: VISIBILITY[user.role].sections, family };
    const decisions = await this.decisions.listFor(id);
    return (family ? decisions.filter((d) => FAMILY_DECISIONS.has(d.kind)) : decisions).map((d) => DecisionDto.from(d, reader));
  }

  /**
   * Each information request with the fields changed in the family's answer. The family can edit only while the
   * application is info_requested, so a round's answer is the state at the next request, or the current state.
   */
  async changes(user: AuthUser, id: string): Promise<ChangesDto> {
    const manager = this.dataSource.manager;
    const app = await this.records.findReadable(manager, user, id, true);
    const rounds = await this.rounds(id);
    if (!rounds.length) return { rounds: [] };
    const current = await this.snapshots.take(manager, app);
    return {
      rounds: rounds.map(({ round, next, resubmittedAt }) => ({
        id: round.id,
        message: round.message,
        requestedBy: round.requestedBy,
        requestedAt: round.requestedAt.toISOString(),
        resubmittedAt,
        changedFields: changedFields(round.fieldHashes, next ? next.fieldHashes : current),
      })),
    };
  }

  /**
   * The reviewers' questions, for the family to read in the app: the email only says that there is one, since a
   * question may quote the child's medical detail (DESIGN: emails hold no medical detail, they link to the app).
   */
  async infoRequests(user: AuthUser, id: string): Promise<InfoRequestDto[]> {
    await this.records.findReadable(this.dataSource.manager, user, id);
    const rounds = await this.rounds(id);
    return rounds.map(({ round, resubmittedAt }) => ({ id: round.id, message: round.message, requestedAt: round.requestedAt.toISOString(), resubmittedAt }));
  }

  /** Each information round, oldest first, with the next one and when the family resubmitted in answer. */
  private async rounds(id: string): Promise<{ round: InfoRequest; next: InfoRequest | undefined; resubmittedAt: string | null }[]> {
    const manager = this.dataSource.manager;
    const rounds = await manager.getRepository(InfoRequest).find({ where: { applicationId: id }, order: { requestedAt: 'ASC', id: 'ASC' } });
    if (!rounds.length) return [];
    const submissions = await manager.getRepository(AuditEvent).find({
      where: { objectType: 'application', objectId: id, action: 'application.submitted' },
      order: { id: 'ASC' },
    });
    return rounds.map((round, i) => {
      const next = rounds[i + 1];
      const answer = submissions.find((s) => s.occurredAt >= round.requestedAt && (!next || s.occurredAt <= next.requestedAt));
      return { round, next, resubmittedAt: answer?.occurredAt.toISOString() ?? null };
    });
  }

  /**
   * Oldest first, keyset-paginated on the audit trail's position: the application's own events and those of its
   * tranches (paid, returned, rescheduled, cancelled, reconciled), which are recorded against the tranche. The family
   * sees roles, staff also who; and the family does not see the fund's deliberation and bookkeeping (FAMILY_HIDDEN).
   * A reviewer or admin whose conflict of interest bars them from the file sees what happened and when, no more: not
   * who, not the summaries (the tier, the amounts approved or released, which every other read keeps from them), and not
   * what the family does not see either.
   */
  async history(user: AuthUser, id: string, query: PageQueryDto): Promise<Page<HistoryEventDto>> {
    await this.records.findVisible(this.dataSource.manager, user, id);
    const conflicted = await this.records.isConflicted(this.dataSource.manager, user, id);
    const after = decodeCursor(query.cursor, 'bigint');
    if (after && after.id !== id) throw new InvalidInputException([{ field: 'cursor', message: 'is not a valid cursor' }]);
    const qb = this.dataSource
      .getRepository(AuditEvent)
      .createQueryBuilder('e')
      .where(
        `((e.object_type = 'application' AND e.object_id = :id)
          OR (e.object_type = 'disbursement' AND e.object_id IN (SELECT d.id::text FROM disbursements d WHERE d.application_id = CAST(:id AS uuid))))`,
        { id },
      )
      .orderBy('e.id', 'ASC')
      .limit(query.limit + 1);
    if (after) qb.andWhere('e.id > :after', { after: after.k });
    const seesAll = user.role !== 'applicant' && !conflicted;
    if (!seesAll) qb.andWhere(`NOT (e.action = ANY(:hidden) OR e.action LIKE 'fund.%')`, { hidden: FAMILY_HIDDEN.actions });
    // Staff read the documents a submission took: not the uploads and removals of an answer still being prepared, nor
    // of one removed or withdrawn before it was submitted (seen by nobody). The family sees its own.
    if (user.role !== 'applicant') {
      qb.andWhere(
        `(e.action NOT IN ('document.uploaded', 'document.deleted')
          OR EXISTS (SELECT 1 FROM application_documents d WHERE d.id::text = e.summary ->> 'documentId' AND d.submitted))`,
      );
    }
    const rows = await qb.getMany();
    return toPage(
      rows,
      query.limit,
      (e) => ({ k: e.id, id }),
      (e) => ({
        id: e.id,
        occurredAt: e.occurredAt.toISOString(),
        action: e.action,
        actorRole: e.actorRole,
        ...(seesAll ? { actorId: e.actorId } : {}),
        summary: conflicted ? {} : seesAll ? e.summary : withoutKeys(e.summary, FAMILY_HIDDEN.summaryKeys),
      }),
    );
  }
}
