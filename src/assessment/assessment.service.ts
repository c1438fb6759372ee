import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AuditService } from 'src/audit/audit.service';
import { PolicyStaleVersionException, PolicyVersionConflictException } from 'src/assessment/assessment.exceptions';
import { assessMeans, isCompleteAssessmentInput, MeansAssessmentInput } from 'src/assessment/means-assessment';
import { AssessmentTrigger, MeansAssessmentRecord } from 'src/assessment/means-assessment-record.entity';
import { DEFAULT_MEANS_POLICY, MeansPolicy, validateMeansPolicy } from 'src/assessment/means-policy';
import { MeansPolicyVersion } from 'src/assessment/means-policy-version.entity';
import { AuthUser } from 'src/common/auth/roles';
import { SqlPart } from 'src/database/statement-parts';
import { InvalidInputException, ResourceNotFoundException } from 'src/common/problem/problem.exception';
import { FUND_TIME_ZONE, todayIn } from 'src/fund/calendar-date';

/** Distinct policy versions kept in memory; there are a handful in the life of the service. */
const POLICY_CACHE_SIZE = 64;

export type AssessmentRequest = {
  applicationId: string;
  input: Partial<MeansAssessmentInput>;
  /** Application field paths still missing; the assessment is complete only when this is empty. */
  missing: string[];
  trigger: AssessmentTrigger;
};

@Injectable()
export class AssessmentService {
  private readonly policies = new Map<string, MeansPolicyVersion>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** The newest policy version. The migration seeds version 1; an emptied table is re-seeded with the defaults. */
  async currentPolicy(manager: EntityManager = this.dataSource.manager): Promise<MeansPolicyVersion> {
    const latest = () => manager.getRepository(MeansPolicyVersion).createQueryBuilder('p').orderBy('p.version', 'DESC').limit(1).getOne();
    const found = await latest();
    if (found) return found;
    await manager.query(`INSERT INTO means_policies (version, policy) VALUES (1, $1::jsonb) ON CONFLICT (version) DO NOTHING`, [
      JSON.stringify(DEFAULT_MEANS_POLICY),
    ]);
    return (await latest())!;
  }

  async policyVersion(version: number): Promise<MeansPolicyVersion> {
    const row = await this.dataSource.getRepository(MeansPolicyVersion).findOneBy({ version });
    if (!row) throw new ResourceNotFoundException('Means policy version');
    return row;
  }

  /**
   * Validates a whole policy and stores it as the next version. Existing assessments keep the version they were
   * computed with. With `expectedVersion` (If-Match), the version the admin edited must still be the current one.
   */
  async replacePolicy(body: unknown, actor: AuthUser, expectedVersion?: number): Promise<MeansPolicyVersion> {
    const errors = validateMeansPolicy(body);
    if (errors.length) throw new InvalidInputException(errors, 'The means policy has invalid fields.');
    const policy = body as MeansPolicy;
    try {
      return await this.dataSource.transaction(async (tx) => {
        const current = await this.currentPolicy(tx);
        if (expectedVersion !== undefined && expectedVersion !== current.version) throw new PolicyStaleVersionException(current.version);
        const version = current.version + 1;
        await tx.insert(MeansPolicyVersion, { version, policy, createdBy: actor.id } as QueryDeepPartialEntity<MeansPolicyVersion>);
        await this.audit.record(tx, {
          actor,
          action: 'means_policy.replaced',
          objectType: 'means_policy',
          objectId: String(version),
          summary: { previousVersion: current.version, version },
        });
        return tx.getRepository(MeansPolicyVersion).findOneByOrFail({ version });
      });
    } catch (error) {
      // Two administrators saving at once: both computed the same next version; the primary key lets one win (there
      // is no lock: the key is what serialises saves). The loser's If-Match, if it sent one, is stale now.
      if ((error as { code?: string }).code === '23505') {
        if (expectedVersion !== undefined) throw new PolicyStaleVersionException((await this.currentPolicy()).version);
        throw new PolicyVersionConflictException();
      }
      throw error;
    }
  }

  /**
   * The policy a caller found current (`SELECT version, created_at FROM means_policies ORDER BY version DESC LIMIT 1`,
   * which it folds into a query of its own). Policy versions are never changed, only added, so their contents are
   * cached by version and creation time (a table emptied and re-seeded, as the e2e reset does, gives new times);
   * which version is current is always the caller's fresh read. No current version: the table is empty, re-seeded.
   */
  async policyOf(tx: EntityManager, current: { version: number; createdAt: Date } | null): Promise<MeansPolicyVersion> {
    if (!current) return this.currentPolicy(tx);
    const key = `${current.version}@${current.createdAt.getTime()}`;
    const cached = this.policies.get(key);
    if (cached) return cached;
    const row = await tx.getRepository(MeansPolicyVersion).findOneByOrFail({ version: current.version });
    if (this.policies.size >= POLICY_CACHE_SIZE) this.policies.clear();
    this.policies.set(key, row);
    return row;
  }

  /** The assessment `request` gets under `policy`, not yet stored (see insertOf). */
  compute(policy: MeansPolicyVersion, request: AssessmentRequest): Omit<MeansAssessmentRecord, 'id'> {
    const complete = request.missing.length === 0 && isCompleteAssessmentInput(request.input);
    const computedAt = new Date();
    const result = complete ? assessMeans(request.input as MeansAssessmentInput, policy.policy, todayIn(FUND_TIME_ZONE, computedAt)) : null;
    return {
      applicationId: request.applicationId,
      policyVersion: policy.version,
      trigger: request.trigger,
      complete,
      missing: complete ? [] : request.missing,
      inputs: request.input,
      result,
      tier: result?.tier ?? null,
      recommendedAmount: result?.recommendedAmount ?? null,
      computedAt,
    };
  }

  /** The INSERT storing a computed assessment, for a caller that writes it together with other rows. */
  insertOf(row: Omit<MeansAssessmentRecord, 'id'>): SqlPart {
    return {
      sql: `INSERT INTO means_assessments (application_id, policy_version, trigger, complete, missing, inputs, result, tier, recommended_amount, computed_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      params: [
        row.applicationId,
        row.policyVersion,
        row.trigger,
        row.complete,
        JSON.stringify(row.missing),
        JSON.stringify(row.inputs),
        row.result === null ? null : JSON.stringify(row.result),
        row.tier,
        row.recommendedAmount,
        row.computedAt,
      ],
    };
  }

  async latestFor(applicationId: string): Promise<MeansAssessmentRecord | null> {
    return this.dataSource
      .getRepository(MeansAssessmentRecord)
      .createQueryBuilder('a')
      .where('a.application_id = :applicationId', { applicationId })
      .orderBy('a.id', 'DESC')
      .limit(1)
      .getOne();
  }
}
