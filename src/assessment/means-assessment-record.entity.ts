import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { fenTransformer } from 'src/assessment/fen.transformer';
import type { MeansAssessment, MeansAssessmentInput, MeansTier } from 'src/assessment/means-assessment';

export const ASSESSMENT_TRIGGERS = ['created', 'updated', 'submitted'] as const;
export type AssessmentTrigger = (typeof ASSESSMENT_TRIGGERS)[number];

/** Every computed assessment of an application, with the inputs and policy version that produced it. */
@Entity('means_assessments')
export class MeansAssessmentRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column({ type: 'uuid' }) applicationId: string;
  @Column({ type: 'int' }) policyVersion: number;
  @Column({ type: 'text' }) trigger: AssessmentTrigger;
  @Column() complete: boolean;
  /** Application field paths a draft still lacks (e.g. "household.size"). */
  @Column({ type: 'jsonb' }) missing: string[];
  @Column({ type: 'jsonb' }) inputs: Partial<MeansAssessmentInput>;
  @Column({ type: 'jsonb', nullable: true }) result: MeansAssessment | null;
  @Column({ type: 'text', nullable: true }) tier: MeansTier | null;
  @Column({ type: 'bigint', nullable: true, transformer: fenTransformer }) recommendedAmount: number | null;
  @Column({ type: 'timestamptz' }) computedAt: Date;
}
