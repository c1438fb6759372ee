import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from 'src/audit/audit.service';
import { ApplicationReads } from 'src/applications/application-reads';
import { ApplicationRecords, AssessmentFacts, referenceOf } from 'src/applications/application-records';
import { EMPTY_STATE, mergeInput } from 'src/applications/application-sections';
import { EDITABLE_STATUSES } from 'src/applications/application-status';
import { Application } from 'src/applications/application.entity';
import { toApplicationDto, toListItemDto } from 'src/applications/application.mapper';
import { VISIBILITY } from 'src/applications/application-visibility';
import { applicationWarnings } from 'src/applications/application-warnings';
import { maskNationalId } from 'src/applications/national-id';
import { draftPlaceOf, DRAFTS_FULL } from 'src/applications/draft-place';
import {
  ApplicationNotFoundException,
  ApplicationVersionConflictException,
  InvalidStatusTransitionException,
  TooManyDraftsException,
} from 'src/applications/applications.exceptions';
import { ApplicationInputDto } from 'src/applications/dto/application-input.dto';
import { ApplicationDto, ApplicationListItemDto } from 'src/applications/dto/application.dto';
import { ApplicationQueryDto } from 'src/applications/dto/application-query.dto';
import { AssessmentNotFoundException } from 'src/assessment/assessment.exceptions';
import { AssessmentService } from 'src/assessment/assessment.service';
import { AssessmentDto } from 'src/assessment/dto/assessment.dto';
import { AuthUser } from 'src/common/auth/roles';
import { queryPrepared } from 'src/database/prepared-query';
import { writeTogether } from 'src/database/statement-parts';
import { decodeCursor, Page, toPage } from 'src/common/pagination/pagination';
import { InvalidInputException } from 'src/common/problem/problem.exception';
import { AppConfig } from 'src/config/app-config';

@Injectable()
export class ApplicationsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly records: ApplicationRecords,
    private readonly reads: ApplicationReads,
    private readonly assessments: AssessmentService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Two round trips, as one statement each: the facts (reference number, hospital, duplicate child, current policy),
   * then the writes (application with its assessment outcome, the assessment, the audit event) together with the
   * account's draft place (take_draft_place: under the account's draft lock, 409 if it already has
   * MAX_OPEN_DRAFTS_PER_ACCOUNT never-submitted drafts, and then nothing is written). The answer is built from what
   * was written.
   */
  async create(user: AuthUser, input: ApplicationInputDto): Promise<ApplicationDto> {
    const now = new Date();
    const { state, changed } = mergeInput(EMPTY_STATE, input, now);
    const id = randomUUID();
    const manager = this.dataSource.manager;
    const facts = this.records.assessmentFacts(2);
    const [found] = (await queryPrepared(manager,
      `SELECT nextval('application_reference_seq')::text AS serial,
              ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM hospitals WHERE id = $1::uuid)) AS hospital_known, ${facts.columns}
         FROM (VALUES (1)) one ${facts.join}`,
      [state.hospitalId, ...this.records.factParams(id, state)],
    )) as (AssessmentFacts & { serial: string; hospital_known: boolean })[];
    if (!found.hospital_known) throw new InvalidInputException([{ field: 'hospitalId', message: 'does not name a known hospital' }]);
    const reference = referenceOf(found.serial, now);
    const { assessment, ageLimit } = await this.records.assessWith(manager, { id, firstSubmittedAt: null }, state, 'created', now, found);
    const app: Application = {
      id,
      reference,
      applicantId: user.id,
      hospitalId: state.hospitalId,
      status: 'draft',
      version: 1,
      patient: state.patient,
      guardian: state.guardian,
      household: state.household,
      medical: state.medical,
      consents: state.consents,
      ...this.records.sealedIdsOf(state),
      submittedAt: null,
      firstSubmittedAt: null,
      withdrawnAt: null,
      assessmentTier: assessment.tier,
      recommendedAmount: assessment.recommendedAmount,
      createdAt: now,
      updatedAt: now,
    };
    const event = { actor: user, action: 'application.created', objectType: 'application', objectId: id, summary: { reference, fields: changed } };
    const place = draftPlaceOf(user.id, id, this.config.env.MAX_OPEN_DRAFTS_PER_ACCOUNT);
    const parts = [this.records.insertOf(app), this.assessments.insertOf(assessment), this.audit.pendingOf([event]), place];
    await writeTogether(manager, parts, `SELECT 1 FROM w${parts.length - 1}`).catch((error: unknown) => {
      const e = error as { code?: string; detail?: string };
      throw e.code === DRAFTS_FULL ? new TooManyDraftsException(Number(e.detail)) : error;
    });
    return toApplicationDto(app, user.role, { patient: state.patientNationalId, guardian: state.guardianNationalId }, applicationWarnings(state, ageLimit, now));
  }

  async update(user: AuthUser, id: string, input: ApplicationInputDto, expectedVersion?: number): Promise<ApplicationDto> {
    const now = new Date();
    return this.dataSource.transaction(async (tx) => {
      const app = await this.records.lockVisible(tx, user, id, true);
      if (expectedVersion !== undefined && expectedVersion !== app.version) throw new ApplicationVersionConflictException(app.version);
      if (!EDITABLE_STATUSES.includes(app.status)) throw new InvalidStatusTransitionException('edit', app.status);
      const { state, changed } = mergeInput(this.records.stateOf(app), input, now);
      await this.records.checkHospital(tx, state.hospitalId);
      let ageLimit: number | null;
      if (changed.length > 0) {
        const assessed = await this.records.assess(tx, app, state, 'updated', now);
        const { assessment } = assessed;
        ageLimit = assessed.ageLimit;
        await this.records.guardedUpdate(tx, app, {
          ...this.records.columnsOf(state),
          assessmentTier: assessment.tier,
          recommendedAmount: assessment.recommendedAmount,
          updatedAt: now,
        });
        await this.audit.record(tx, {
          actor: user,
          action: 'application.updated',
          objectType: 'application',
          objectId: app.id,
          summary: { status: app.status, version: app.version + 1, fields: changed },
        });
      } else {
        ageLimit = await this.records.ageLimitOf(tx, app.id);
      }
      const saved = await this.records.findVisible(tx, user, id);
      const warnings = applicationWarnings(state, ageLimit, now, saved.firstSubmittedAt);
      return toApplicationDto(saved, user.role, { patient: state.patientNationalId, guardian: state.guardianNationalId }, warnings);
    });
  }

  /** `revealIds`: staff asking for the national ids whole (audited before they are returned). */
  async get(user: AuthUser, id: string, revealIds = false): Promise<ApplicationDto> {
    const see = VISIBILITY[user.role];
    if (revealIds && see.nationalIds === 'none') {
      throw new InvalidInputException([{ field: 'reveal', message: 'names what your role may not see' }]);
    }
    const found = await this.reads.findVisible(user, id, see.nationalIds !== 'none' || see.sections);
    if (!found) throw new ApplicationNotFoundException();
    const app = found.view;
    if (!see.sections) return toApplicationDto(app, user.role, null, []);
    await this.records.assertNotConflicted(this.dataSource.manager, user, app.id);
    const state = this.records.stateOf(app);
    const whole = see.nationalIds === 'full' || (revealIds && see.nationalIds === 'masked');
    if (whole && see.nationalIds === 'masked') await this.recordReveal(user, app.id);
    const shown = (nationalId: string | null) => (nationalId && !whole ? maskNationalId(nationalId) : nationalId);
    const ids = { patient: shown(state.patientNationalId), guardian: shown(state.guardianNationalId) };
    return toApplicationDto(app, user.role, ids, applicationWarnings(state, found.ageLimit, new Date(), app.firstSubmittedAt));
  }

  private recordReveal(user: AuthUser, applicationId: string): Promise<void> {
    return this.dataSource.transaction((tx) =>
      this.audit.record(tx, { actor: user, action: 'application.national_ids_revealed', objectType: 'application', objectId: applicationId, summary: {} }),
    );
  }

  /**
   * Keyset-paginated. `status=submitted` is the review queue, oldest first submission first (index
   * applications_status_first_submitted_idx). Otherwise a family sees its applications newest first, staff the
   * newest first submissions first (the indexes on applicant and on first submission serve both).
   */
  async list(user: AuthUser, query: ApplicationQueryDto): Promise<Page<ApplicationListItemDto>> {
    if (query.tier && !VISIBILITY[user.role].assessmentOutcome) {
      throw new InvalidInputException([{ field: 'tier', message: 'is not a filter your role may use' }]);
    }
    const rows = await this.reads.list(user, {
      status: query.status,
      hospitalId: query.hospitalId,
      tier: query.tier,
      after: decodeCursor(query.cursor, 'timestamp'),
      limit: query.limit,
    });
    return toPage(
      rows,
      query.limit,
      (row) => ({ k: row.cursorKey, id: row.id }),
      (row) => toListItemDto(row, user.role),
    );
  }

  /**
   * Those who read the household and medical sections (reviewers, admins) get the whole working, and the family the
   * working of its own application (AssessmentDto.forFamily); fund finance only the outcome (tier and recommended
   * amount): the working gives away the household's income and size, its assets and the treatment's cost, which fund
   * finance may not see (VISIBILITY).
   */
  async assessment(user: AuthUser, id: string): Promise<AssessmentDto> {
    await this.records.findReadable(this.dataSource.manager, user, id);
    const record = await this.assessments.latestFor(id);
    if (!record) throw new AssessmentNotFoundException();
    if (user.role === 'applicant') return AssessmentDto.forFamily(record);
    if (!VISIBILITY[user.role].sections) return AssessmentDto.outcome(record);
    const [otherOpen, earlier, policy] = await Promise.all([
      this.records.otherOpenReferences(this.dataSource.manager, id, user.id),
      this.records.earlierGrants(this.dataSource.manager, id, user.id),
      this.assessments.policyVersion(record.policyVersion),
    ]);
    return AssessmentDto.forStaff(record, {
      otherOpenApplications: otherOpen.references,
      otherOpenApplicationsWithheld: otherOpen.withheld,
      earlierGrants: earlier.grants,
      earlierGrantsWithheld: earlier.withheld,
      flagOtherOpenApplication: policy.policy.manualReview.flagOtherOpenApplication,
    });
  }
}
