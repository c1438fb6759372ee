import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { Application } from 'src/applications/application.entity';
import { AuditService } from 'src/audit/audit.service';
import { AuthUser } from 'src/common/auth/roles';
import { InvalidInputException, ResourceNotFoundException } from 'src/common/problem/problem.exception';
import { Hospital } from 'src/hospitals/hospital.entity';
import { CreateReviewerConflictDto, ReviewerConflictDto } from 'src/review/dto/reviewer-conflict.dto';
import { ConflictOfInterestException, OwnConflictException, ReviewerConflictExistsException } from 'src/review/review.exceptions';
import { ReviewerConflict } from 'src/review/reviewer-conflict.entity';
import { reviewerConflictSql } from 'src/review/reviewer-conflict-sql';
import { passwordsSetByOne } from 'src/users/linked-accounts';
import { User } from 'src/users/user.entity';

/** Who may not decide whose cases: kept by admins, checked at every review action. */
@Injectable()
export class ReviewerConflictsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /**
   * reviewerConflictSql for `user`, given the placeholder of its one parameter (`value`): true when the application
   * is `user`'s own or `user` is linked to its family or its hospital in reviewer_conflicts. The gate reads it with
   * the row's lock (one round trip); see assertNoConflict.
   */
  conflictFlag(user: AuthUser): { sql: (param: string) => string; value: unknown } {
    return { sql: reviewerConflictSql, value: user.id };
  }

  /** 403 conflict-of-interest when `user` works for the application's hospital or `flagged` (conflictFlag: own application, linked family or hospital) says so. */
  assertNoConflict(user: AuthUser, app: Pick<Application, 'hospitalId'>, flagged: boolean): void {
    if (app.hospitalId && user.hospitalId === app.hospitalId) throw new ConflictOfInterestException();
    if (flagged) throw new ConflictOfInterestException();
  }

  async add(reviewerId: string, dto: CreateReviewerConflictDto, actor: AuthUser): Promise<ReviewerConflictDto> {
    // Ids as PostgreSQL prints them: one written in capitals is the same id (the self-link check compares strings).
    reviewerId = reviewerId.toLowerCase();
    dto = { ...dto, applicantId: dto.applicantId?.toLowerCase(), hospitalId: dto.hospitalId?.toLowerCase() };
    // An explicit null names no target, like an absent field.
    const targets = [dto.applicantId, dto.hospitalId].filter((v) => v !== undefined && v !== null);
    if (targets.length !== 1) {
      throw new InvalidInputException([{ field: 'applicantId', message: 'give exactly one of applicantId and hospitalId' }]);
    }
    try {
      return await this.dataSource.transaction(async (tx) => {
        await this.reviewer(tx, reviewerId);
        if (dto.applicantId) {
          if (dto.applicantId === reviewerId) throw new InvalidInputException([{ field: 'applicantId', message: 'must be another user than the reviewer' }]);
          const applicant = await tx.getRepository(User).findOneBy({ id: dto.applicantId });
          if (applicant?.role !== 'applicant') throw new InvalidInputException([{ field: 'applicantId', message: 'does not name a family (applicant) account' }]);
        }
        if (dto.hospitalId && !(await tx.existsBy(Hospital, { id: dto.hospitalId }))) {
          throw new InvalidInputException([{ field: 'hospitalId', message: 'does not name a known hospital' }]);
        }
        const row = { reviewerId, applicantId: dto.applicantId ?? null, hospitalId: dto.hospitalId ?? null, createdBy: actor.id };
        const inserted = await tx.insert(ReviewerConflict, row as QueryDeepPartialEntity<ReviewerConflict>);
        const id = String(inserted.identifiers[0].id);
        await this.audit.record(tx, {
          actor,
          action: 'reviewer_conflict.added',
          objectType: 'user',
          objectId: reviewerId,
          summary: { conflictId: id, ...(dto.applicantId ? { applicantId: dto.applicantId } : { hospitalId: dto.hospitalId }) },
        });
        return ReviewerConflictDto.from(await tx.getRepository(ReviewerConflict).findOneByOrFail({ id }));
      });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new ReviewerConflictExistsException();
      throw error;
    }
  }

  /**
   * A user leaving a hospital's finance office (for another role, or another hospital) keeps a conflict with that
   * hospital: made reviewer or admin, they would otherwise decide its cases, as assertNoConflict only sees the
   * hospital a user holds now and only hospital finance holds one. Written and audited in the caller's transaction
   * (the role change's); one already recorded stays as it is.
   */
  async recordLeftHospital(tx: EntityManager, userId: string, hospitalId: string, actor: AuthUser): Promise<void> {
    const [row] = (await tx.query(
      `INSERT INTO reviewer_conflicts (reviewer_id, hospital_id, created_by) VALUES ($1, $2, $3)
       ON CONFLICT (reviewer_id, hospital_id) WHERE hospital_id IS NOT NULL DO NOTHING RETURNING id`,
      [userId, hospitalId, actor.id],
    )) as { id: string }[];
    if (!row) return;
    await this.audit.record(tx, {
      actor,
      action: 'reviewer_conflict.added',
      objectType: 'user',
      objectId: userId,
      summary: { conflictId: row.id, hospitalId, reason: 'left-hospital' },
    });
  }

  async list(reviewerId: string): Promise<ReviewerConflictDto[]> {
    await this.reviewer(this.dataSource.manager, reviewerId);
    const rows = await this.dataSource.getRepository(ReviewerConflict).find({ where: { reviewerId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map(ReviewerConflictDto.from);
  }

  /**
   * Only by an admin independent of it: not the reviewer it binds, not the family it names (an admin whose own
   * application is the conflict, copied to an account they created), and not one who may hold the reviewer's password
   * or whose password the reviewer may hold (passwordsSetByOne), who could be deciding through it. (An admin who gave
   * the reviewer its role, without its password, may: in a fund with one admin, that admin made every reviewer.)
   */
  async remove(reviewerId: string, conflictId: string, actor: AuthUser): Promise<void> {
    reviewerId = reviewerId.toLowerCase(); // as the audit trail writes ids (passwordsSetByOne compares them as text)
    if (actor.id === reviewerId) throw new OwnConflictException();
    await this.dataSource.transaction(async (tx) => {
      const rows = (await tx.query(`DELETE FROM reviewer_conflicts WHERE id = $1 AND reviewer_id = $2 RETURNING applicant_id, hospital_id`, [
        conflictId,
        reviewerId,
      ])) as [{ applicant_id: string | null; hospital_id: string | null }[], number];
      const removed = rows[0][0];
      if (!removed) throw new ResourceNotFoundException('Conflict');
      if (removed.applicant_id === actor.id) throw new OwnConflictException('This conflict of interest names your own account as the family; another admin must remove it.');
      if (await passwordsSetByOne(tx, reviewerId, actor.id)) {
        throw new OwnConflictException(
          "You set this account's password, it set yours, or one admin set both (and it has not been reset since): another admin must remove its conflicts of interest.",
        );
      }
      await this.audit.record(tx, {
        actor,
        action: 'reviewer_conflict.removed',
        objectType: 'user',
        objectId: reviewerId,
        summary: { conflictId, ...(removed.applicant_id ? { applicantId: removed.applicant_id } : { hospitalId: removed.hospital_id }) },
      });
    });
  }

  private async reviewer(manager: EntityManager, id: string): Promise<User> {
    const user = await manager.getRepository(User).findOneBy({ id });
    if (!user) throw new ResourceNotFoundException('User');
    return user;
  }
}
