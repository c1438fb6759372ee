import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { DocumentType } from 'src/applications/application-fields';
import { ApplicationRecords } from 'src/applications/application-records';
import { ApplicationAction, findTransition } from 'src/applications/application-status';
import { Application } from 'src/applications/application.entity';
import { toStatusChangeDto } from 'src/applications/application.mapper';
import {
  ApplicationIncompleteException,
  ApplicationVersionConflictException,
  InvalidStatusTransitionException,
} from 'src/applications/applications.exceptions';
import { StatusChangeDto } from 'src/applications/dto/application.dto';
import { missingForSubmission } from 'src/applications/submission-completeness';
import { AuthUser } from 'src/common/auth/roles';
import { ProblemException } from 'src/common/problem/problem.exception';
import { AppConfig } from 'src/config/app-config';
import { OutboxService } from 'src/notifications/outbox.service';
import { User } from 'src/users/user.entity';

/** Status changes of the family: submit and withdraw, through the one transition table. */
@Injectable()
export class ApplicationTransitionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly records: ApplicationRecords,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly config: AppConfig,
  ) {}

  /** Checks completeness, recomputes the assessment, and emails the family — all or nothing. */
  async submit(user: AuthUser, id: string, expectedVersion?: number): Promise<StatusChangeDto> {
    return this.dataSource.transaction(async (tx) => {
      const { app, to } = await this.begin(tx, user, id, 'submit', expectedVersion);
      const state = this.records.stateOf(app);
      const owner = await tx.getRepository(User).findOneByOrFail({ id: app.applicantId });
      const missing = missingForSubmission({
        state,
        emailVerified: owner.emailVerifiedAt !== null,
        documentTypes: await this.documentTypes(tx, app.id),
      });
      if (missing.length) throw new ApplicationIncompleteException(missing);

      const now = new Date();
      const firstSubmittedAt = app.firstSubmittedAt ?? now;
      const assessment = await this.records.assess(tx, { id: app.id, firstSubmittedAt }, state, 'submitted', now);
      const version = await this.records.guardedUpdate(tx, app, {
        status: to,
        submittedAt: now,
        firstSubmittedAt,
        assessmentTier: assessment.tier,
        recommendedAmount: assessment.recommendedAmount,
        updatedAt: now,
      });
      await this.outbox.enqueue(tx, {
        event: 'application.submitted',
        template: 'application-submitted',
        to: { email: owner.email, userId: owner.id, locale: owner.locale },
        context: { fullName: owner.fullName, reference: app.reference, applicationUrl: this.applicationUrl(app.id), submittedAt: now.toISOString() },
      });
      await this.audit.record(tx, {
        actor: user,
        action: 'application.submitted',
        objectType: 'application',
        objectId: app.id,
        summary: { from: app.status, to, version, policyVersion: assessment.policyVersion, tier: assessment.tier },
      });
      return toStatusChangeDto({ ...app, status: to, version, submittedAt: now });
    });
  }

  async withdraw(user: AuthUser, id: string, expectedVersion?: number): Promise<StatusChangeDto> {
    return this.dataSource.transaction(async (tx) => {
      const { app, to } = await this.begin(tx, user, id, 'withdraw', expectedVersion);
      const now = new Date();
      const version = await this.records.guardedUpdate(tx, app, { status: to, withdrawnAt: now, updatedAt: now });
      await this.audit.record(tx, {
        actor: user,
        action: 'application.withdrawn',
        objectType: 'application',
        objectId: app.id,
        summary: { from: app.status, to, version },
      });
      return toStatusChangeDto({ ...app, status: to, version });
    });
  }

  /** Locks the caller's application and finds the transition for `action`, or refuses with 404/409/403. */
  private async begin(tx: EntityManager, user: AuthUser, id: string, action: ApplicationAction, expectedVersion?: number) {
    const app: Application = await this.records.lockVisible(tx, user, id, true);
    if (expectedVersion !== undefined && expectedVersion !== app.version) throw new ApplicationVersionConflictException(app.version);
    const transition = findTransition(app.status, action);
    if (!transition) throw new InvalidStatusTransitionException(action, app.status);
    if (!transition.roles.includes(user.role)) throw new ProblemException(403, 'role-not-allowed', 'Forbidden', 'Your role may not do this.');
    return { app, to: transition.to };
  }

  private async documentTypes(tx: EntityManager, applicationId: string): Promise<Set<DocumentType>> {
    const rows = (await tx.query('SELECT DISTINCT type FROM application_documents WHERE application_id = $1', [applicationId])) as { type: DocumentType }[];
    return new Set(rows.map((r) => r.type));
  }

  private applicationUrl(id: string): string {
    return `${this.config.env.APP_PUBLIC_URL.replace(/\/$/, '')}/applications/${id}`;
  }
}
