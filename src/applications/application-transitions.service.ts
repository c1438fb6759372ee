import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { DocumentType } from 'src/applications/application-fields';
import { ApplicationRecords, AssessmentFacts } from 'src/applications/application-records';
import { ApplicationAction, findTransition } from 'src/applications/application-status';
import { toStatusChangeDto } from 'src/applications/application.mapper';
import { submitDocumentsOf } from 'src/applications/documents/submitted-documents';
import { ApplicationIncompleteException, ApplicationVersionConflictException, InvalidStatusTransitionException } from 'src/applications/applications.exceptions';
import { StatusChangeDto } from 'src/applications/dto/application.dto';
import { missingForSubmission } from 'src/applications/submission-completeness';
import { AuthUser } from 'src/common/auth/roles';
import { ProblemException } from 'src/common/problem/problem.exception';
import { AppConfig } from 'src/config/app-config';
import { OutboxService } from 'src/notifications/outbox.service';
import { AssessmentService } from 'src/assessment/assessment.service';
import { queryPrepared } from 'src/database/prepared-query';
import { writeTogether } from 'src/database/statement-parts';
import { ObjectStorage } from 'src/storage/object-storage';
import { reviewerConflictSql } from 'src/review/reviewer-conflict-sql';
import type { Locale } from 'src/users/user.entity';

type Asker = { id: string; email: string; full_name: string; locale: Locale; requested_at: Date };
/** The family an email of their own application goes to. */
type Owner = { id: string; email: string; full_name: string; locale: Locale };

/** Status changes of the family: submit and withdraw, through the one transition table. */
@Injectable()
export class ApplicationTransitionsService {
  private readonly logger = new Logger(ApplicationTransitionsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly records: ApplicationRecords,
    private readonly assessments: AssessmentService,
    private readonly audit: AuditService,
    private readonly outbox: OutboxService,
    private readonly config: AppConfig,
    private readonly storage: ObjectStorage,
  ) {}

  /**
   * Checks completeness, recomputes the assessment, takes the documents not yet submitted with it, and emails the
   * family — all or nothing. Four round trips in the transaction: lock, the facts (owner, documents, duplicate child,
   * current policy), the writes as one statement, COMMIT.
   */
  async submit(user: AuthUser, id: string, expectedVersion?: number): Promise<StatusChangeDto> {
    return this.dataSource.transaction(async (tx) => {
      const { app, to } = await this.begin(tx, user, id, 'submit', expectedVersion);
      const state = this.records.stateOf(app);
      const facts = this.records.assessmentFacts(3);
      const [owner] = (await queryPrepared(tx, 
        `SELECT u.id, u.email, u.full_name, u.locale, u.email_verified_at IS NOT NULL AS email_verified,
                ARRAY(SELECT DISTINCT type FROM application_documents WHERE application_id = $2) AS document_types, ${facts.columns}
           FROM users u ${facts.join}
          WHERE u.id = $1`,
        [app.applicantId, app.id, ...this.records.factParams(app.id, state)],
      )) as (AssessmentFacts & { id: string; email: string; full_name: string; locale: Locale; email_verified: boolean; document_types: DocumentType[] })[];
      const missing = missingForSubmission({ state, emailVerified: owner.email_verified, documentTypes: new Set(owner.document_types) });
      if (missing.length) throw new ApplicationIncompleteException(missing);

      const now = new Date();
      const asker = app.status === 'info_requested' ? await this.askerOf(tx, app.id) : undefined;
      const firstSubmittedAt = app.firstSubmittedAt ?? now;
      const { assessment } = await this.records.assessWith(tx, { id: app.id, firstSubmittedAt }, state, 'submitted', now, owner);
      const version = app.version + 1;
      const [{ updated }] = await writeTogether<{ updated: number }>(
        tx,
        [
          this.records.guardedUpdateOf(app, {
            status: to,
            submitted_at: now,
            first_submitted_at: firstSubmittedAt,
            assessment_tier: assessment.tier,
            recommended_amount: assessment.recommendedAmount,
            updated_at: now,
          }),
          this.assessments.insertOf(assessment),
          submitDocumentsOf(app.id),
          this.outbox.insertOf({
            event: 'application.submitted',
            template: 'application-submitted',
            to: { email: owner.email, userId: owner.id, locale: owner.locale },
            context: {
              fullName: owner.full_name,
              reference: app.reference,
              applicationUrl: this.applicationUrl(app.id),
              submittedAt: now.toISOString(),
              // Not "your application reached us" again at each answer: what reached us is the answer.
              ...(app.status === 'info_requested' ? { answered: true } : {}),
            },
          }),
          ...(asker
            ? [
                this.outbox.insertOf({
                  event: 'application.info_answered',
                  template: 'info-answered',
                  to: { email: asker.email, userId: asker.id, locale: asker.locale },
                  context: {
                    fullName: asker.full_name,
                    reference: app.reference,
                    applicationUrl: this.applicationUrl(app.id),
                    requestedAt: asker.requested_at.toISOString(),
                    submittedAt: now.toISOString(),
                  },
                }),
              ]
            : []),
          this.audit.pendingOf([
            {
              actor: user,
              action: 'application.submitted',
              objectType: 'application',
              objectId: app.id,
              summary: { from: app.status, to, version, policyVersion: assessment.policyVersion, tier: assessment.tier },
            },
          ]),
        ],
        'SELECT count(*)::int AS updated FROM w0',
      );
      // A failed guard throws, and the rollback takes the other rows of the statement with it.
      await this.records.assertGuarded(tx, app, updated);
      return toStatusChangeDto({ ...app, status: to, version, submittedAt: now });
    });
  }

  /**
   * Withdrawing also removes the documents no submission took (ID and household register scans, medical records): a
   * never-submitted draft's, and answers uploaded to an info request and never resubmitted. No reviewer saw them, the
   * family can no longer delete them once the application is withdrawn, and a withdrawn application is never taken up
   * again. Submitted documents are kept, as reviewed evidence. A never-submitted draft's details go too (eraseDraft).
   */
  async withdraw(user: AuthUser, id: string, expectedVersion?: number): Promise<StatusChangeDto> {
    const { result, storageKeys } = await this.dataSource.transaction(async (tx) => {
      const { app, to } = await this.begin(tx, user, id, 'withdraw', expectedVersion);
      const now = new Date();
      const version = await this.records.guardedUpdate(tx, app, { status: to, withdrawnAt: now, updatedAt: now });
      const [removed] = (await tx.query(`DELETE FROM application_documents WHERE application_id = $1 AND NOT submitted RETURNING storage_key`, [app.id])) as [
        { storage_key: string }[],
        number,
      ];
      const neverSubmitted = !app.firstSubmittedAt;
      if (neverSubmitted) await this.eraseDraft(tx, app.id);
      // Told even though they did it themselves: a withdrawal cannot be undone, and one the family did not make means
      // someone else is in their account. Only at an address the account proved it reads: anyone can register a
      // stranger's address under a "name" of their own text, and draft after withdrawn draft would mail it there.
      const [owner] = (await tx.query(`SELECT id, email, full_name, locale FROM users WHERE id = $1 AND email_verified_at IS NOT NULL`, [app.applicantId])) as Owner[];
      if (owner) await this.outbox.enqueue(tx, {
        event: 'application.withdrawn',
        template: 'application-withdrawn',
        to: { email: owner.email, userId: owner.id, locale: owner.locale },
        context: {
          fullName: owner.full_name,
          reference: app.reference,
          applicationUrl: this.applicationUrl(app.id),
          withdrawnAt: now.toISOString(),
          ...(neverSubmitted ? { detailsErased: true } : {}),
        },
      });
      await this.audit.record(tx, {
        actor: user,
        action: 'application.withdrawn',
        objectType: 'application',
        objectId: app.id,
        summary: { from: app.status, to, version, ...(removed.length ? { documentsRemoved: removed.length } : {}), ...(neverSubmitted ? { detailsErased: true } : {}) },
      });
      return { result: toStatusChangeDto({ ...app, status: to, version }), storageKeys: removed.map((r) => r.storage_key) };
    });
    // After the commit: a failure here leaves an unreferenced file, never a row without its file.
    for (const key of storageKeys) {
      await this.storage.delete(key).catch((e: unknown) => this.logger.error({ err: e }, 'could not remove a withdrawn application\'s unsubmitted document'));
    }
    return result;
  }

  /**
   * A draft withdrawn before any submission was never seen by the fund and is never taken up again: what it held of the
   * child and the household (national ids, birth date, diagnosis, income, the guardian) and every assessment of it go,
   * as its documents do (PIPL Art. 47: the purpose is gone). The patient's name stays, so the family's list still says
   * which draft it was; the consents stay, as the record of what was agreed while it was kept.
   */
  private async eraseDraft(tx: EntityManager, applicationId: string): Promise<void> {
    await tx.query(
      `UPDATE applications
          SET patient = jsonb_strip_nulls(jsonb_build_object('fullName', patient -> 'fullName')), guardian = '{}', household = '{}', medical = '{}',
              patient_national_id_enc = NULL, patient_national_id_hash = NULL, guardian_national_id_enc = NULL,
              assessment_tier = NULL, recommended_amount = NULL
        WHERE id = $1 AND first_submitted_at IS NULL`,
      [applicationId],
    );
    await tx.query(`DELETE FROM means_assessments WHERE application_id = $1`, [applicationId]);
  }

  /**
   * Who asked the family the question a resubmission answers (the latest info request), to tell them: unless their
   * account is disabled, they no longer review, or a conflict of interest now bars them from the case (then the
   * answer waits in the queue, where the digest counts it, for whoever takes it up).
   */
  private async askerOf(tx: EntityManager, applicationId: string): Promise<Asker | undefined> {
    const [asker] = (await tx.query(
      `SELECT u.id, u.email, u.full_name, u.locale, r.requested_at
         FROM info_requests r JOIN applications a ON a.id = r.application_id JOIN users u ON u.id = r.requested_by
        WHERE r.application_id = $1 AND u.disabled_at IS NULL AND u.role IN ('reviewer', 'admin') AND NOT ${reviewerConflictSql('u.id')}
          AND r.requested_at = (SELECT max(requested_at) FROM info_requests WHERE application_id = $1)`,
      [applicationId],
    )) as Asker[];
    return asker;
  }

  /** Locks the caller's application and finds the transition for `action`, or refuses with 404/409/403. */
  private async begin(tx: EntityManager, user: AuthUser, id: string, action: ApplicationAction, expectedVersion?: number) {
    // Without If-Match, a submit or withdraw that waited for another change goes ahead: only the family edits its own
    // application (a submit right after its autosave takes what was saved), and a reviewer's start-review leaves a
    // status from which neither is allowed.
    const app = await this.records.lockVisible(tx, user, id, true);
    if (expectedVersion !== undefined && expectedVersion !== app.version) throw new ApplicationVersionConflictException(app.version);
    const transition = findTransition(app.status, action);
    if (!transition) throw new InvalidStatusTransitionException(action, app.status);
    if (!transition.roles.includes(user.role)) throw new ProblemException(403, 'role-not-allowed', 'Forbidden', 'Your role may not do this.');
    return { app, to: transition.to };
  }

  private applicationUrl(id: string): string {
    return this.config.publicUrl(`/applications/${id}`);
  }
}
