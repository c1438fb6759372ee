import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { ApplicationView } from 'src/applications/application-reads';
import { ApplicationState } from 'src/applications/application-sections';
import { OPEN_STATUSES } from 'src/applications/application-status';
import { Application } from 'src/applications/application.entity';
import { scopedApplications } from 'src/applications/application-scope';
import { ApplicationNotFoundException, ApplicationVersionConflictException } from 'src/applications/applications.exceptions';
import { toAssessmentInput } from 'src/applications/assessment-input';
import { NationalIdVault } from 'src/applications/national-id-vault';
import { AssessmentService } from 'src/assessment/assessment.service';
import { MeansAssessmentRecord, AssessmentTrigger } from 'src/assessment/means-assessment-record.entity';
import { AuthUser } from 'src/common/auth/roles';
import { InvalidInputException } from 'src/common/problem/problem.exception';
import { Hospital } from 'src/hospitals/hospital.entity';

const ENCRYPTED_COLUMNS = ['patientNationalIdEnc', 'patientNationalIdHash', 'guardianNationalIdEnc'] as const;
const CHINA_OFFSET_MS = 8 * 3600_000;

/** Loading, locking, assessing and guarded writing of application rows, shared by the application services. */
@Injectable()
export class ApplicationRecords {
  constructor(
    private readonly vault: NationalIdVault,
    private readonly assessments: AssessmentService,
  ) {}

  /** The caller's application, locked for the rest of the transaction; 404 when it is not theirs or not there. */
  async lockVisible(tx: EntityManager, user: AuthUser, id: string, withIds = false): Promise<Application> {
    const qb = scopedApplications(tx, user).andWhere('a.id = :id', { id }).setLock('pessimistic_write');
    if (withIds) qb.addSelect(ENCRYPTED_COLUMNS.map((c) => `a.${c}`));
    const app = await qb.getOne();
    if (!app) throw new ApplicationNotFoundException();
    return app;
  }

  async findVisible(manager: EntityManager, user: AuthUser, id: string, withIds = false): Promise<Application> {
    const qb = scopedApplications(manager, user).andWhere('a.id = :id', { id });
    if (withIds) qb.addSelect(ENCRYPTED_COLUMNS.map((c) => `a.${c}`));
    const app = await qb.getOne();
    if (!app) throw new ApplicationNotFoundException();
    return app;
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
    const patientId = state.patientNationalId ? this.vault.seal(state.patientNationalId) : null;
    return {
      hospitalId: state.hospitalId,
      patient: state.patient as never,
      guardian: state.guardian as never,
      household: state.household as never,
      medical: state.medical as never,
      consents: state.consents as never,
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

  /** SPR-<year>-<6 digits>: the number comes from one sequence, so a reference never repeats, across years too. */
  async nextReference(tx: EntityManager, now: Date): Promise<string> {
    const [{ n }] = (await tx.query(`SELECT nextval('application_reference_seq')::text AS n`)) as { n: string }[];
    const year = new Date(now.getTime() + CHINA_OFFSET_MS).getUTCFullYear();
    return `SPR-${year}-${n.padStart(6, '0')}`;
  }

  /** Recomputes and stores the means assessment for the application's current state (same transaction). */
  async assess(
    tx: EntityManager,
    app: Pick<Application, 'id' | 'firstSubmittedAt'>,
    state: ApplicationState,
    trigger: AssessmentTrigger,
    now: Date,
  ): Promise<MeansAssessmentRecord> {
    const hasOtherOpenApplication = state.patientNationalId ? await this.otherOpenApplicationExists(tx, app.id, state.patientNationalId) : false;
    const { input, missing } = toAssessmentInput(state, { hasOtherOpenApplication, firstAppliedAt: app.firstSubmittedAt ?? now });
    return this.assessments.record(tx, { applicationId: app.id, input, missing, trigger });
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

  private async otherOpenApplicationExists(tx: EntityManager, id: string, nationalId: string): Promise<boolean> {
    const [{ found }] = (await tx.query(
      `SELECT EXISTS (SELECT 1 FROM applications WHERE patient_national_id_hash = $1 AND id <> $2 AND status = ANY($3)) AS found`,
      [this.vault.hash(nationalId), id, OPEN_STATUSES],
    )) as { found: boolean }[];
    return found;
  }
}
