import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ApplicationStatus } from 'src/applications/application-status';
import { fenTransformer } from 'src/assessment/fen.transformer';
import type { Role } from 'src/common/auth/roles';

export const DECISION_KINDS = ['approval', 'first_approval', 'second_approval', 'rejection'] as const;
/**
 * `approval`: a single approval below the four-eyes threshold; `first_approval` / `second_approval`: the two
 * approvals at or above it; `rejection`: from under review or instead of a second approval.
 */
export type DecisionKind = (typeof DECISION_KINDS)[number];

/** A reviewer's decision on an application: the four-eyes rule is checked against these rows (append-only). */
@Entity('decisions')
export class Decision {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) applicationId: string;
  @Column({ type: 'text' }) kind: DecisionKind;
  @Column({ type: 'uuid' }) reviewerId: string;
  @Column({ type: 'text' }) reviewerRole: Role;
  @Column({ type: 'text' }) fromStatus: ApplicationStatus;
  @Column({ type: 'text' }) toStatus: ApplicationStatus;
  @Column({ type: 'bigint', nullable: true, transformer: fenTransformer }) amount: number | null;
  @Column({ type: 'text', nullable: true }) comment: string | null;
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @Column({ type: 'timestamptz' }) decidedAt: Date;
}
