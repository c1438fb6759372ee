import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ApplicationStatus } from 'src/applications/application-status';
import { AuthUser } from 'src/common/auth/roles';
import { ConflictException } from 'src/common/problem/problem.exception';
import { SqlPart } from 'src/database/statement-parts';
import { Decision, DecisionKind } from 'src/review/decision.entity';

export type NewDecision = {
  applicationId: string;
  kind: DecisionKind;
  reviewer: Pick<AuthUser, 'id' | 'role'>;
  from: ApplicationStatus;
  to: ApplicationStatus;
  amount?: number;
  comment?: string;
  reason?: string;
  at: Date;
};

/** The `decisions` table: what the four-eyes rule is checked against (append-only). */
@Injectable()
export class ReviewDecisions {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(tx: EntityManager, d: NewDecision): Promise<Decision> {
    const row = rowOf(d, randomUUID());
    try {
      await tx.insert(Decision, row as QueryDeepPartialEntity<Decision>);
      return row;
    } catch (error) {
      throw decisionError(error);
    }
  }

  /** What record() writes, as a statement for a caller that writes it together with its other rows; map its errors with decisionError. */
  insertOf(d: NewDecision): { decision: Decision; insert: SqlPart } {
    const decision = rowOf(d, randomUUID());
    return {
      decision,
      insert: {
        // A grant names the child (GrantsNameTheChild): what reviewers of the child's later applications are shown.
        sql: `INSERT INTO decisions (id, application_id, kind, reviewer_id, reviewer_role, from_status, to_status, amount, comment, reason, decided_at,
                                     patient_national_id_hash)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                      (SELECT a.patient_national_id_hash FROM applications a WHERE a.id = $2 AND $3 IN ('approval', 'second_approval')))`,
        params: [
          decision.id,
          decision.applicationId,
          decision.kind,
          decision.reviewerId,
          decision.reviewerRole,
          decision.fromStatus,
          decision.toStatus,
          decision.amount,
          decision.comment,
          decision.reason,
          decision.decidedAt,
        ],
      },
    };
  }

  listFor(applicationId: string): Promise<Decision[]> {
    return this.dataSource.getRepository(Decision).find({ where: { applicationId }, order: { decidedAt: 'ASC', id: 'ASC' } });
  }
}

function rowOf(d: NewDecision, id: string): Decision {
  return {
    id,
    applicationId: d.applicationId,
    kind: d.kind,
    reviewerId: d.reviewer.id,
    reviewerRole: d.reviewer.role,
    fromStatus: d.from,
    toStatus: d.to,
    amount: d.amount ?? null,
    comment: d.comment ?? null,
    reason: d.reason ?? null,
    decidedAt: d.at,
  };
}

/** The database's own four-eyes and one-final-decision guards, should the checks above them ever be bypassed: 409, never a 500. */
export function decisionError(error: unknown): unknown {
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code === '23514' && constraint === 'decisions_four_eyes') {
    return new ConflictException('four-eyes-violation', 'A second approval needs a first approval by another reviewer for the same amount.');
  }
  if (code === '23505' && (constraint === 'decisions_final_key' || constraint === 'decisions_kind_key')) {
    return new ConflictException('already-decided', 'This application has already been decided.');
  }
  return error;
}
