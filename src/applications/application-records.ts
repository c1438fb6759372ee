import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ApplicationView, LATEST_AGE_LIMIT, RECORD_COLUMNS, RECORD_ID_COLUMNS, RecordRow, toApplication } from 'src/applications/application-reads';
import { ApplicationState } from 'src/applications/application-sections';
import { FINAL_STATUSES } from 'src/applications/application-status';
import { Application } from 'src/applications/application.entity';
import { applicationScope, scopedApplications } from 'src/applications/application-scope';
import { ApplicationNotFoundException, ApplicationVersionConflictException } from 'src/applications/applications.exceptions';
import { toAssessmentInput } from 'src/applications/assessment-input';
import { NationalIdVault } from 'src/applications/national-id-vault';
import { AssessmentService } from 'src/assessment/assessment.service';
import { MeansAssessmentRecord, AssessmentTrigger } from 'src/assessment/means-assessment-record.entity';
import { AuthUser } from 'src/common/auth/roles';
import { InvalidInputException } from 'src/common/problem/problem.exception';
import { queryPrepared } from 'src/database/prepared-query';
import { SqlPart } from 'src/database/statement-parts';
import { Hospital } from 'src/hospitals/hospital.entity';
import { ConflictOfInterestException } from 'src/review/review.exceptions';
import { hasConflictsToCheck, reviewerConflictSql } from 'src/review/reviewer-conflict-sql';

/**
 * An application locked for a change. `changedWhileWaiting`: another action on it committed while this request waited
 * for the lock (assertNotChangedWhileWaiting).
 */
export type LockedApplication = Application & { changedWhileWaiting: boolean };

/**
 * Without If-Match, a review action that waited for the application's lock while another action committed is a 409,
 * when the transition is still one the new status allows (one it refuses says so, as before). Two reviewers approving
 * at the same moment would otherwise both win, one as the first approval and the other as its confirmation, and
 * API.md's Concurrency wants the loser to get a 409, never a second transition. A request that reaches the lock after
 * the other committed goes ahead: what its client saw, only If-Match tells.
 */
export function assertNotChangedWhileWaiting(app: LockedApplication, expectedVersion: number | undefined): void {
  if (expectedVersion === undefined && app.changedWhileWaiting) throw new ApplicationVersionConflictException(app.version);
}

/** A computed (not yet stored) assessment, and the age over which its policy flags a patient (applicationWarnings). */
export type Assessed = { assessment: Omit<MeansAssessmentRecord, 'id'>; ageLimit: number };

const CHINA_OFFSET_MS = 8 * 3600_000;

/**
 * "Not final", as constant SQL written exactly as the predicate of applications_open_patient_hash_idx (migration
 * OpenApplicationsPatientIndex), which holds only open applications: a status list passed as a parameter could not be
 * proven to fit that predicate in a generic plan, and the duplicate-child look-up would scan the table.
 */
const notFinalSql = (alias: string) => `${alias}status NOT IN (${FINAL_STATUSES.map((s) => `'${s}'`).join(', ')})`;
/**
 * Whether the reader (`reader`, a placeholder) has a conflict of interest in the other application `o` (its own
 * family's, or one they are linked to by family or hospital): what a file they are barred from holds (its reference,
 * outcome, amount) is left out of the child's other applications they are shown.
 */
const conflictedOther = (reader: string) => `EXISTS (SELECT 1 FROM applications a WHERE a.id = o.id AND ${reviewerConflictSql(reader)})`;

/**
 * Another application "open" for the duplicate-child check: submitted at least once and not final. A draft never
 * submitted does not count: reviewers cannot see it (application-scope), so a flag pointing at it could not be
 * looked into, and it is flagged itself when it is submitted. `alias` with its dot, or ''.
 */
const otherOpenSql = (alias = '') => `${alias}first_submitted_at IS NOT NULL AND ${notFinalSql(alias)}`;

/** The columns guardedUpdateOf may set. */
export type UpdatableColumn = 'status' | 'submitted_at' | 'first_submitted_at' | 'withdrawn_at' | 'assessment_tier' | 'recommended_amount' | 'updated_at';

/** The row of a query that selected ApplicationRecords.assessmentFacts(). */
export type AssessmentFacts = { other_open: boolean; policy_version: number | null; policy_created_at: Date | null };

/** SPR-<year in China>-<serial, at least 6 digits> for a value of application_reference_seq. */
export function referenceOf(serial: string, now: Date): string {
  const year = new Date(now.getTime() + CHINA_OFFSET_MS).getUTCFullYear();
  return `SPR-${year}-${serial.padStart(6, '0')}`;
}

const ENCRYPTED_COLUMNS = ['patientNationalIdEnc', 'patientNationalIdHash', 'guardianNationalIdEnc'] as const;

/** Loading, locking, assessing and guarded writing of application rows, shared by the application services. */
@Injectable()
export class ApplicationRecords {
  constructor(
    private readonly vault: NationalIdVault,
    private readonly assessments: AssessmentService,
  ) {}

  /**
   * The caller's application, locked for the rest of the transaction; 404 when it is not theirs or not there.
   * `flag`: a boolean SQL expression over the row (alias `a`) read with it, e.g. a conflict-of-interest check.
   */
  async lockVisible(
    tx: EntityManager,
    user: AuthUser,
    id: string,
    withIds = false,
    flag?: { sql: (param: string) => string; value: unknown },
  ): Promise<LockedApplication & { flag?: boolean }> {
    const scope = applicationScope(user);
    if (!scope) throw new ApplicationNotFoundException();
    // Constant SQL per (scope kind, withIds, flag), prepared: TypeORM's query builder and hydration cost more CPU than the query.
    const values: unknown[] = [id];
    const where = scope.predicate('a', scope.value === null ? '' : `$${values.push(scope.value)}`);
    const flagColumn = flag ? `, ${flag.sql(`$${values.push(flag.value)}`)} AS flag` : '';
    // version_found is read in the statement's snapshot, taken before it waits for another transaction's lock on the
    // row; the row locked is the one that transaction committed. They differ when another action on the application
    // was taken while this request waited (changedWhileWaiting).
    const [row] = await queryPrepared<RecordRow & { flag?: boolean; version_found: number | null }>(
      tx,
      `SELECT ${RECORD_COLUMNS}${withIds ? `, ${RECORD_ID_COLUMNS}` : ''}${flagColumn},
              (SELECT f.version FROM applications f WHERE f.id = $1) AS version_found
         FROM applications a WHERE a.id = $1 AND ${where} FOR UPDATE OF a`,
      values,
    );
    if (!row) throw new ApplicationNotFoundException();
    const app = Object.assign(toApplication(row), { changedWhileWaiting: row.version_found !== row.version });
    return flag ? Object.assign(app, { flag: row.flag }) : app;
  }

  async findVisible(manager: EntityManager, user: AuthUser, id: string, withIds = false): Promise<Application> {
    const qb = scopedApplications(manager, user).andWhere('a.id = :id', { id });
    if (withIds) qb.addSelect(ENCRYPTED_COLUMNS.map((c) => `a.${c}`));
    const app = await qb.getOne();
    if (!app) throw new ApplicationNotFoundException();
    return app;
  }

  /**
   * findVisible, for reads of what the family wrote (sections, ids, the assessment's working, documents, questions,
   * decisions): a reviewer or admin with a conflict of interest in the application (reviewerConflictSql: their own,
   * or linked to its family or hospital) gets 403 conflict-of-interest, as for every review action. A conflict is
   * recorded for someone close to the family or the hospital; they have no need to read the child's file, and the family
   * would not want them to.
   */
  async findReadable(manager: EntityManager, user: AuthUser, id: string, withIds = false): Promise<Application> {
    const app = await this.findVisible(manager, user, id, withIds);
    await this.assertNotConflicted(manager, user, app.id);
    return app;
  }

  /** The check of findReadable alone, for a caller that found the application another way. */
  async assertNotConflicted(manager: EntityManager, user: AuthUser, id: string): Promise<void> {
    if (await this.isConflicted(manager, user, id)) throw new ConflictOfInterestException();
  }

  /** Whether a conflict of interest bars the user from the application's file (always false for roles without conflicts). */
  async isConflicted(manager: EntityManager, user: AuthUser, id: string): Promise<boolean> {
    if (!hasConflictsToCheck(user.role)) return false;
    const [row] = await queryPrepared<{ flagged: boolean }>(manager, `SELECT ${reviewerConflictSql('$2')} AS flagged FROM applications a WHERE a.id = $1`, [id, user.id]);
    return row?.flagged === true;
  }

  /** Decrypts: the result holds national ids in plain text and must never be logged or returned as is. */
  stateOf(app: ApplicationView): ApplicationState {
    return {
      hospitalId: app.hospitalId,
      patient: app.patient,
      guardian: app.guardian,
      household: app.household,
      medical: app.medical,
      consents: app.consents,
      patientNationalId: this.vault.open(app.patientNationalIdEnc ?? null),
      guardianNationalId: this.vault.open(app.guardianNationalIdEnc ?? null),
    };
  }

  /** Section and encrypted-id columns for a state. */
  columnsOf(state: ApplicationState): QueryDeepPartialEntity<Application> {
    return {
      hospitalId: state.hospitalId,
      patient: state.patient as never,
      guardian: state.guardian as never,
      household: state.household as never,
      medical: state.medical as never,
      consents: state.consents as never,
      ...this.sealedIdsOf(state),
    };
  }

  /** The encrypted-id columns for a state. */
  sealedIdsOf(state: ApplicationState): Pick<Application, (typeof ENCRYPTED_COLUMNS)[number]> {
    const patientId = state.patientNationalId ? this.vault.seal(state.patientNationalId) : null;
    return {
      patientNationalIdEnc: patientId?.encrypted ?? null,
      patientNationalIdHash: patientId?.hash ?? null,
      guardianNationalIdEnc: state.guardianNationalId ? this.vault.seal(state.guardianNationalId).encrypted : null,
    };
  }

  async checkHospital(tx: EntityManager, hospitalId: string | null): Promise<void> {
    if (hospitalId && !(await tx.existsBy(Hospital, { id: hospitalId }))) {
      throw new InvalidInputException([{ field: 'hospitalId', message: 'does not name a known hospital' }]);
    }
  }

  /** Recomputes and stores the means assessment for the application's current state (same transaction). */
  async assess(
    tx: EntityManager,
    app: Pick<Application, 'id' | 'firstSubmittedAt'>,
    state: ApplicationState,
    trigger: AssessmentTrigger,
    now: Date,
  ): Promise<Assessed> {
    const facts = this.assessmentFacts(1);
    const [found] = await queryPrepared<AssessmentFacts>(tx, `SELECT ${facts.columns} FROM (VALUES (1)) one ${facts.join}`, this.factParams(app.id, state));
    const assessed = await this.assessWith(tx, app, state, trigger, now, found);
    const insert = this.assessments.insertOf(assessed.assessment);
    // One assessment of the form as it stands, not one per edit: each is a copy of the household's income, assets and
    // debts. Those a submission took stay, as what the reviewers decided on. ($1 is the application's id.)
    const replacing = `WITH earlier AS (DELETE FROM means_assessments WHERE application_id = $1 AND trigger <> 'submitted') ${insert.sql}`;
    await queryPrepared(tx, replacing, insert.params);
    return assessed;
  }

  /**
   * What assessing needs from the database besides the application — is the child in another open application, which
   * means policy is current — as select-list `columns` and a FROM item (`join`, after the caller's first FROM item), so
   * that a caller reads them with a query it sends anyway. Parameters $first and $first+1: factParams().
   */
  assessmentFacts(first: number): { columns: string; join: string } {
    const [hash, id] = [first, first + 1].map((n) => `$${n}`);
    return {
      columns: `(${hash}::text IS NOT NULL AND EXISTS (SELECT 1 FROM applications WHERE patient_national_id_hash = ${hash}::text
                 AND id <> ${id}::uuid AND ${otherOpenSql()})) AS other_open,
                current_policy.version AS policy_version, current_policy.created_at AS policy_created_at`,
      join: `LEFT JOIN (SELECT version, created_at FROM means_policies ORDER BY version DESC LIMIT 1) current_policy ON true`,
    };
  }

  /**
   * The references of the other applications open now for the same child, oldest first, and how many more there are
   * that the reader has a conflict of interest in (named to them by none of their fields). The stored assessment says
   * whether there was one when it was computed; this says whether there is one now (another guardian may have
   * applied since, or the other application may have been withdrawn).
   */
  async otherOpenReferences(manager: EntityManager, id: string, readerId: string): Promise<{ references: string[]; withheld: number }> {
    const rows = (await manager.query(
      `SELECT o.reference, ${conflictedOther('$2')} AS withheld FROM applications a
         JOIN applications o ON o.patient_national_id_hash = a.patient_national_id_hash AND o.id <> a.id
        WHERE a.id = $1 AND ${otherOpenSql('o.')}
        ORDER BY o.first_submitted_at, o.reference`,
      [id, readerId],
    )) as { reference: string; withheld: boolean }[];
    return { references: rows.filter((r) => !r.withheld).slice(0, 20).map((r) => r.reference), withheld: rows.filter((r) => r.withheld).length };
  }

  /**
   * The grants made to the same child in its other applications (by the national-id hash their final approval
   * recorded, decisions_grants_by_child_idx), oldest first, and how many more the reader has a conflict of interest
   * in: a child funded to the cap last year may apply again, and only open applications are named otherwise
   * (otherOpenReferences).
   */
  async earlierGrants(
    manager: EntityManager,
    id: string,
    readerId: string,
  ): Promise<{ grants: { reference: string; status: string; amount: number; approvedAt: string }[]; withheld: number }> {
    const rows = (await manager.query(
      `SELECT o.reference, o.status, g.amount::text AS amount, g.decided_at AS approved_at, ${conflictedOther('$2')} AS withheld
         FROM applications a
         JOIN decisions g ON g.patient_national_id_hash = a.patient_national_id_hash AND g.application_id <> a.id
         JOIN applications o ON o.id = g.application_id
        WHERE a.id = $1 AND a.patient_national_id_hash IS NOT NULL
        ORDER BY g.decided_at, o.reference`,
      [id, readerId],
    )) as { reference: string; status: string; amount: string; approved_at: Date; withheld: boolean }[];
    const grants = rows
      .filter((r) => !r.withheld)
      .slice(0, 20)
      .map((r) => ({ reference: r.reference, status: r.status, amount: Number(r.amount), approvedAt: r.approved_at.toISOString() }));
    return { grants, withheld: rows.filter((r) => r.withheld).length };
  }

  factParams(applicationId: string, state: ApplicationState): unknown[] {
    return [state.patientNationalId ? this.vault.hash(state.patientNationalId) : null, applicationId];
  }

  /** The assessment of the application's current state from the facts read with assessmentFacts(); stored by the caller (AssessmentService.insertOf). */
  async assessWith(
    tx: EntityManager,
    app: Pick<Application, 'id' | 'firstSubmittedAt'>,
    state: ApplicationState,
    trigger: AssessmentTrigger,
    now: Date,
    facts: AssessmentFacts,
  ): Promise<Assessed> {
    const current = facts.policy_version === null ? null : { version: facts.policy_version, createdAt: facts.policy_created_at! };
    const policy = await this.assessments.policyOf(tx, current);
    const { input, missing } = toAssessmentInput(state, { hasOtherOpenApplication: facts.other_open, firstAppliedAt: app.firstSubmittedAt ?? now });
    const assessment = this.assessments.compute(policy, { applicationId: app.id, input, missing, trigger });
    return { assessment, ageLimit: policy.policy.manualReview.maxPatientAgeYears };
  }

  /** The age limit of the application's latest assessment's policy (LATEST_AGE_LIMIT), for its warnings. */
  async ageLimitOf(tx: EntityManager, applicationId: string): Promise<number | null> {
    const [row] = await queryPrepared<{ age_limit: number | null }>(tx, `SELECT ${LATEST_AGE_LIMIT('a')} AS age_limit FROM applications a WHERE a.id = $1`, [applicationId]);
    return row?.age_limit ?? null;
  }

  /** The INSERT of a new application row. */
  insertOf(app: Application): SqlPart {
    return {
      sql: `INSERT INTO applications (id, reference, applicant_id, hospital_id, status, version, patient, guardian, household, medical, consents,
              patient_national_id_enc, patient_national_id_hash, guardian_national_id_enc, assessment_tier, recommended_amount, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
      params: [
        app.id,
        app.reference,
        app.applicantId,
        app.hospitalId,
        app.status,
        app.version,
        JSON.stringify(app.patient),
        JSON.stringify(app.guardian),
        JSON.stringify(app.household),
        JSON.stringify(app.medical),
        JSON.stringify(app.consents),
        app.patientNationalIdEnc,
        app.patientNationalIdHash,
        app.guardianNationalIdEnc,
        app.assessmentTier,
        app.recommendedAmount,
        app.createdAt,
        app.updatedAt,
      ],
    };
  }

  /**
   * guardedUpdate() as a statement for writeTogether: `values` by column name; RETURNING the new version, so no row
   * means the guard failed (call assertGuarded with the count).
   */
  guardedUpdateOf(app: Pick<Application, 'id' | 'status' | 'version'>, values: Partial<Record<UpdatableColumn, unknown>>): SqlPart {
    const columns = Object.keys(values) as UpdatableColumn[];
    const set = columns.map((c, i) => `${c} = $${i + 4}`).join(', ');
    return {
      sql: `UPDATE applications SET ${set}, version = version + 1 WHERE id = $1 AND status = $2 AND version = $3 RETURNING version`,
      params: [app.id, app.status, app.version, ...columns.map((c) => values[c])],
    };
  }

  /** 409 with the current version unless the guarded update changed exactly one row; the new version otherwise. */
  async assertGuarded(tx: EntityManager, app: Pick<Application, 'id' | 'version'>, updated: number): Promise<number> {
    if (updated !== 1) {
      const [current] = (await tx.query('SELECT version FROM applications WHERE id = $1', [app.id])) as { version: number }[];
      throw new ApplicationVersionConflictException(current?.version ?? app.version);
    }
    return app.version + 1;
  }

  /**
   * Writes a change only if the row is still at `expected` status and version (two racing requests cannot
   * both win), bumping the version; 409 otherwise.
   */
  async guardedUpdate(
    tx: EntityManager,
    app: Pick<Application, 'id' | 'status' | 'version'>,
    values: QueryDeepPartialEntity<Application>,
  ): Promise<number> {
    const result = await tx
      .createQueryBuilder()
      .update(Application)
      .set({ ...values, version: () => 'version + 1' })
      .where('id = :id AND status = :status AND version = :version', { id: app.id, status: app.status, version: app.version })
      .execute();
    if (result.affected !== 1) {
      const [current] = (await tx.query('SELECT version FROM applications WHERE id = $1', [app.id])) as { version: number }[];
      throw new ApplicationVersionConflictException(current?.version ?? app.version);
    }
    return app.version + 1;
  }
}
