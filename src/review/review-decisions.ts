import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ApplicationStatus } from 'src/applications/application-status';
import { AuthUser } from 'src/common/auth/roles';
import { ConflictException } from 'src/common/problem/problem.exception';
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
    const row = {
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
    try {
      const inserted = await tx.insert(Decision, row as QueryDeepPartialEntity<Decision>);
      return { ...row, id: String(inserted.identifiers[0].id) } as Decision;
    } catch (error) {
      // The database's own four-eyes and one-final-decision guards, should the checks above them ever be bypassed.
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code === '23514' && constraint === 'decisions_four_eyes') {
        throw new ConflictException('four-eyes-violation', 'A second approval needs a first approval by another reviewer for the same amount.');
      }
      if (code === '23505' && (constraint === 'decisions_final_key' || constraint === 'decisions_kind_key')) {
        throw new ConflictException('already-decided', 'This application has already been decided.');
      }
      throw error;
    }
  }

  firstApproval(tx: EntityManager, applicationId: string): Promise<Decision | null> {
    return tx.getRepository(Decision).findOneBy({ applicationId, kind: 'first_approval' });
  }

  listFor(applicationId: string): Promise<Decision[]> {
    return this.dataSource.getRepository(Decision).find({ where: { applicationId }, order: { decidedAt: 'ASC', id: 'ASC' } });
  }
}
