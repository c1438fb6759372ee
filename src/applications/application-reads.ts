import { Injectable } from '@nestjs/common';
import { applicationScope, ApplicationScope } from 'src/applications/application-scope';
import type { ApplicationStatus } from 'src/applications/application-status';
import type { Application } from 'src/applications/application.entity';
import { fenTransformer } from 'src/assessment/fen.transformer';
import type { MeansTier } from 'src/assessment/means-assessment';
import type { AuthUser } from 'src/common/auth/roles';
import { Coalescer, rowsByOrdinal } from 'src/common/batching/coalescer';
import type { Keyset } from 'src/common/pagination/pagination';
import { AppConfig } from 'src/config/app-config';
import { PreparedQueries } from 'src/database/prepared-queries';
import { hasConflictsToCheck, reviewerConflictInListSql } from 'src/review/reviewer-conflict-sql';

/** What the detail view and the decrypted state need of a row (toApplicationDto, ApplicationRecords.stateOf). */
export type ApplicationView = Pick<
  Application,
  | 'id'
  | 'reference'
  | 'status'
  | 'version'
  | 'hospitalId'
  | 'patient'
  | 'guardian'
  | 'household'
  | 'medical'
  | 'consents'
  | 'submittedAt'
  | 'createdAt'
  | 'updatedAt'
  | 'assessmentTier'
  | 'recommendedAmount'
  | 'firstSubmittedAt'
> &
  Partial<Pick<Application, 'patientNationalIdEnc' | 'guardianNationalIdEnc'>>;

/** A list item's columns (toListItemDto), its times already as the API writes them, and its keyset cursor key. */
export type ApplicationListRow = Pick<Application, 'id' | 'reference' | 'status' | 'version' | 'hospitalId' | 'assessmentTier' | 'recommendedAmount'> & {
  submittedAt: string | null;
  createdAt: string;
  updatedAt: string;
  patientName: string | null;
  cursorKey: string;
  /** A conflict of interest bars the user from this application (reviewers and admins; false for everyone else). */
  conflicted: boolean;
};

export type ApplicationListFilter = { status?: ApplicationStatus; hospitalId?: string; tier?: MeansTier; after: Keyset | null; limit: number };

/** A row's common columns, its times as `Time` (Date, or ISO text in the lists). */
type RowOf<Time> = {
  id: string;
  reference: string;
  status: ApplicationStatus;
  version: number;
  hospital_id: string | null;
  submitted_at: Time | null;
  created_at: Time;
  updated_at: Time;
  assessment_tier: MeansTier | null;
  recommended_amount: string | null;
};
type Row = RowOf<Date>;
type DetailRow = Row & Pick<Application, 'patient' | 'guardian' | 'household' | 'medical' | 'consents'> & {
  first_submitted_at: Date | null;
  patient_national_id_enc?: string | null;
  guardian_national_id_enc?: string | null;
  /** Selected with the national ids (byIdStatement): LATEST_AGE_LIMIT. */
  age_limit?: number | null;
};
type ListRow = RowOf<string> & { patient_name: string | null; cursor_key: string; conflicted?: boolean };

const COLUMNS = 'a.id, a.reference, a.status, a.version, a.hospital_id, a.submitted_at, a.created_at, a.updated_at, a.assessment_tier, a.recommended_amount';
const SECTIONS = 'a.patient, a.guardian, a.household, a.medical, a.consents';
const NATIONAL_IDS = 'a.patient_national_id_enc, a.guardian_national_id_enc';
/** Every column of a whole row (ApplicationRecords.lockVisible); RECORD_ID_COLUMNS add the encrypted ids and the id hash. */
export const RECORD_COLUMNS = `${COLUMNS}, ${SECTIONS}, a.applicant_id, a.first_submitted_at, a.withdrawn_at`;
export const RECORD_ID_COLUMNS = `${NATIONAL_IDS}, a.patient_national_id_hash`;
export type RecordRow = DetailRow & {
  applicant_id: string;
  withdrawn_at: Date | null;
  patient_national_id_hash?: string | null;
};

type ByIdItem = { id: string; value: string | null };
/** One statement in flight, the reads that come meanwhile together in the next: larger batches (bench/HISTORY.md, twelfth pass). */
const BY_ID_BATCHES = { maxItems: 128, maxCalls: 1 };

const MICROSECOND_ISO = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
/** Date.prototype.toISOString's form: milliseconds, truncated as a Date truncates a timestamp's microseconds. */
const MILLISECOND_ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const iso = (column: string) => `to_char(a.${column} AT TIME ZONE 'UTC', ${MILLISECOND_ISO}) AS ${column}`;
/**
 * COLUMNS for a list page, its times written by PostgreSQL as the API sends them: parsing 20 rows' times into Dates
 * and formatting them back was ~11% of the api's CPU on the review queue (profile, bench/HISTORY.md, ninth pass).
 */
const LIST_COLUMNS = `a.id, a.reference, a.status, a.version, a.hospital_id, ${iso('submitted_at')}, ${iso('created_at')}, ${iso('updated_at')}, a.assessment_tier, a.recommended_amount`;

/**
 * The two hot reads of applications (one by id, the lists) as constant SQL over prepared statements, mapped by hand:
 * TypeORM's query builder and entity hydration were 10–17% of the API's CPU on these routes (profiles, BENCHMARKS.md, issue 8).
 * Access is the same scope as everywhere else (applicationScope), in the WHERE clause.
 */
@Injectable()
export class ApplicationReads {
  /**
   * Reads by id of requests that arrive together go in one statement per scope rule and column set (one in flight
   * for each, BY_ID_BATCHES): under load PostgreSQL's per-statement work and the api's round trip are paid once per batch,
   * not per request (bench/HISTORY.md, seventh pass). Each item keeps its own scope value, in the same WHERE clause as a
   * single read. A read waits at most as long as a request may wait for a pooled connection, then answers 503.
   */
  private readonly byId = new Map<string, Coalescer<ByIdItem, DetailRow | undefined>>();

  constructor(
    private readonly queries: PreparedQueries,
    private readonly config: AppConfig,
  ) {}

  /**
   * null when the application does not exist or is outside the user's scope; encrypted ids and the age limit of its
   * latest assessment (LATEST_AGE_LIMIT, for the warnings) only when asked for.
   */
  async findVisible(user: AuthUser, id: string, withIds: boolean): Promise<{ view: ApplicationView; ageLimit: number | null } | null> {
    const scope = applicationScope(user);
    if (!scope) return null;
    const row = await this.byIdBatches(scope, withIds).submit({ id, value: scope.value });
    return row ? { view: toView(row), ageLimit: row.age_limit ?? null } : null;
  }

  private byIdBatches(scope: ApplicationScope, withIds: boolean): Coalescer<ByIdItem, DetailRow | undefined> {
    // Keyed by the rule itself, not the scope's kind: two rules can never share a statement.
    const key = `${scope.predicate('a', 'q.value')}|${withIds}`;
    let batches = this.byId.get(key);
    if (!batches) {
      const text = byIdStatement(scope, withIds);
      batches = new Coalescer<ByIdItem, DetailRow | undefined>(async (items) => {
        const rows = await this.queries.rows<DetailRow & { n: number }>(text, [items.map((i) => i.id), items.map((i) => i.value)]);
        return rowsByOrdinal(rows, items.length);
      }, { ...BY_ID_BATCHES, maxWaitMs: this.config.env.DATABASE_ACQUIRE_TIMEOUT_MS });
      this.byId.set(key, batches);
    }
    return batches;
  }

  /** Keyset page of `limit` + 1 rows (the extra one tells whether there is a next page); see ApplicationsService.list. */
  async list(user: AuthUser, filter: ApplicationListFilter): Promise<ApplicationListRow[]> {
    const statement = listStatement(user, filter);
    if (!statement) return [];
    const rows = await this.queries.rows<ListRow>(statement.text, statement.values);
    return rows.slice(0, filter.limit + 1).map(toListRow);
  }
}

/** The row counts a list's statement asks for: a default page (20) and the two most a client may ask for, plus one. */
const LIMIT_STEPS = [21, 51, 101];

/**
 * The statement of a list page, for ApplicationReads.list (and for the benchmark, which EXPLAINs the review queue's as
 * the service sends it); null when the user may see no application.
 */
export function listStatement(user: AuthUser, filter: ApplicationListFilter): { text: string; values: unknown[] } | null {
  const scope = applicationScope(user);
  if (!scope) return null;
  const values: unknown[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  const queue = filter.status === 'submitted';
  // The queue is worked in order of first submission: an application answered after a question keeps its place.
  const key = queue || user.role !== 'applicant' ? 'a.first_submitted_at' : 'a.created_at';
  const direction = queue ? 'ASC' : 'DESC';
  const where = [scope.value === null ? scope.predicate('a', '') : scope.predicate('a', param(scope.value))];
  if (filter.status) where.push(`a.status = ${param(filter.status)}`);
  if (filter.hospitalId) where.push(`a.hospital_id = ${param(filter.hospitalId)}`);
  const conflicts = hasConflictsToCheck(user.role);
  let me: string | undefined;
  const barred = () => reviewerConflictInListSql((me ??= param(user.id)));
  if (filter.tier) {
    where.push(`a.assessment_tier = ${param(filter.tier)}`);
    // Listed under a tier, a case the user's conflicts bar them from would show its tier, which its line leaves out.
    if (conflicts) where.push(`NOT ${barred()}`);
  }
  if (filter.after) where.push(`(${key}, a.id) ${queue ? '>' : '<'} (${param(filter.after.k)}::timestamptz, ${param(filter.after.id)}::uuid)`);
  // Written into the text, not a parameter: a generic plan, which knows no parameter's value, reckons with a tenth of
  // the rows for `LIMIT $n` and so always looked costlier than planning again, ~0.24 ms of the database's CPU per page
  // of the review queue (BENCHMARKS.md, twenty-sixth pass). With the limit in the text the two plans cost alike and
  // PostgreSQL keeps the generic one after five executions. Rounded up to one of three sizes (ApplicationReads.list
  // keeps limit + 1 rows): each text is a prepared statement on every pooled connection, ~150 KB for the queue's, and
  // a client stepping through every size from 1 to 100 would have left a hundred of them on each.
  const limit = String(LIMIT_STEPS.find((step) => step >= filter.limit + 1) ?? LIMIT_STEPS[LIMIT_STEPS.length - 1]);
  // What the user's conflicts bar them from stays listed, marked (toListItemDto leaves out its name and means).
  const conflicted = conflicts ? `, ${barred()} AS conflicted` : '';
  const text =
    `SELECT ${LIST_COLUMNS}, a.patient ->> 'fullName' AS patient_name, to_char(${key} AT TIME ZONE 'UTC', ${MICROSECOND_ISO}) AS cursor_key${conflicted}` +
    ` FROM applications a WHERE ${where.join(' AND ')} ORDER BY ${key} ${direction}, a.id ${direction} LIMIT ${limit}`;
  return { text, values };
}

/**
 * The read by id of a batch: item n's id and scope value at position n of the two arrays. The arrays are read through
 * scalar subqueries so that PostgreSQL keeps one generic plan (BATCH_ARRAYS_NOTE in src/database/prepared-queries.ts).
 */
export function byIdStatement(scope: ApplicationScope, withIds: boolean): string {
  return (
    `SELECT q.n::int AS n, ${COLUMNS}, ${SECTIONS}, a.first_submitted_at${withIds ? `, ${NATIONAL_IDS}, ${LATEST_AGE_LIMIT('a')} AS age_limit` : ''}` +
    ` FROM unnest((SELECT $1::uuid[]), (SELECT $2::uuid[])) WITH ORDINALITY AS q(id, value, n) JOIN applications a ON a.id = q.id` +
    ` WHERE ${scope.predicate('a', 'q.value')}`
  );
}

/*
 * The mappers extend toCommon's object with Object.assign, never with `{ ...toCommon(r), more }`: on Node 20's V8 a
 * spread followed by new properties gives every object a hidden class of its own (a Map in old space), and the
 * objects then outlived two scavenges and were promoted — a third of the old generation's growth under reads and the
 * major-GC pauses behind the p99 (bench/HISTORY.md, sixth pass). The spec checks the hidden classes are shared.
 */
function toCommon<Time>(r: RowOf<Time>) {
  return {
    id: r.id,
    reference: r.reference,
    status: r.status,
    version: r.version,
    hospitalId: r.hospital_id,
    submittedAt: r.submitted_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    assessmentTier: r.assessment_tier,
    recommendedAmount: fenTransformer.from(r.recommended_amount) as number | null,
  };
}

export function toListRow(r: ListRow): ApplicationListRow {
  return Object.assign(toCommon(r), { patientName: r.patient_name, cursorKey: r.cursor_key, conflicted: r.conflicted === true });
}

export function toView(r: DetailRow): ApplicationView {
  return Object.assign(toCommon(r), {
    patient: r.patient,
    guardian: r.guardian,
    household: r.household,
    medical: r.medical,
    consents: r.consents,
    firstSubmittedAt: r.first_submitted_at,
    patientNationalIdEnc: r.patient_national_id_enc,
    guardianNationalIdEnc: r.guardian_national_id_enc,
  });
}

/**
 * The means policy's `manualReview.maxPatientAgeYears` as of the application's latest assessment (index
 * means_assessments_application_idx, then the policy's primary key): the family's over-age warning follows the same
 * policy version as the reviewer's `patient_over_age`, not today's policy or a constant.
 */
export const LATEST_AGE_LIMIT = (alias: string) =>
  `(SELECT (p.policy #>> '{manualReview,maxPatientAgeYears}')::int FROM means_assessments m JOIN means_policies p ON p.version = m.policy_version` +
  ` WHERE m.application_id = ${alias}.id ORDER BY m.id DESC LIMIT 1)`;

/** A whole row selected with RECORD_COLUMNS; the id columns only when RECORD_ID_COLUMNS were selected too (as TypeORM leaves them out). */
export function toApplication(r: RecordRow): Application {
  const { patientNationalIdEnc, guardianNationalIdEnc, ...view } = toView(r);
  const app = Object.assign(view, { applicantId: r.applicant_id, withdrawnAt: r.withdrawn_at }) as Application;
  if (r.patient_national_id_hash !== undefined) {
    Object.assign(app, { patientNationalIdEnc, guardianNationalIdEnc, patientNationalIdHash: r.patient_national_id_hash });
  }
  return app;
}
