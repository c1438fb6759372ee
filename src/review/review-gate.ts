import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ApplicationRecords, assertNotChangedWhileWaiting } from 'src/applications/application-records';
import { ApplicationAction, findTransition, mayTake, Transition, TransitionFacts } from 'src/applications/application-status';
import { Application } from 'src/applications/application.entity';
import { ApplicationVersionConflictException, InvalidStatusTransitionException } from 'src/applications/applications.exceptions';
import { AuthUser } from 'src/common/auth/roles';
import { AppConfig } from 'src/config/app-config';
import { ReviewRoleNotAllowedException } from 'src/review/review.exceptions';
import { ReviewerConflictsService } from 'src/review/reviewer-conflicts.service';
import { Locale, User } from 'src/users/user.entity';

export type OpenedReview = { app: Application; transition: Transition };
export type Family = { email: string; userId: string; locale: Locale; fullName: string };

/**
 * The checks every review action starts with, in this order, inside the action's transaction:
 * lock the application row, reading the conflict-of-interest flag with it (404 when the caller may not see it) →
 * If-Match version (409) → conflict of interest
 * (403) → the transition table (409 naming the current status) → the table's roles (403).
 * The row lock serializes every action on one application: the loser of a race sees the winner's status.
 */
@Injectable()
export class ReviewGate {
  constructor(
    private readonly records: ApplicationRecords,
    private readonly conflicts: ReviewerConflictsService,
    private readonly config: AppConfig,
  ) {}

  async open(
    tx: EntityManager,
    user: AuthUser,
    id: string,
    action: ApplicationAction,
    options: { expectedVersion?: number; facts?: TransitionFacts; withIds?: boolean } = {},
  ): Promise<OpenedReview> {
    const app = await this.records.lockVisible(tx, user, id, options.withIds ?? false, this.conflicts.conflictFlag(user));
    const flagged = app.flag === true;
    delete app.flag;
    if (options.expectedVersion !== undefined && options.expectedVersion !== app.version) throw new ApplicationVersionConflictException(app.version);
    this.conflicts.assertNoConflict(user, app, flagged);
    const transition = findTransition(app.status, action, options.facts);
    if (!transition) throw new InvalidStatusTransitionException(action, app.status);
    if (!mayTake(transition, user.role)) throw new ReviewRoleNotAllowedException();
    assertNotChangedWhileWaiting(app, options.expectedVersion);
    return { app, transition };
  }

  /**
   * The family's account: where the emails go, in its language. Null for a disabled account, which gets no email (the
   * worker would mark it dead, clutter in the admin's dead list that a retry only kills again).
   */
  async family(tx: EntityManager, app: Pick<Application, 'applicantId'>): Promise<Family | null> {
    const owner = await tx.getRepository(User).findOneByOrFail({ id: app.applicantId });
    if (owner.disabledAt) return null;
    return { email: owner.email, userId: owner.id, locale: owner.locale, fullName: owner.fullName };
  }

  applicationUrl(id: string): string {
    return this.config.publicUrl(`/applications/${id}`);
  }

  get secondApprovalThreshold(): number {
    return this.config.env.SECOND_APPROVAL_THRESHOLD;
  }
}
