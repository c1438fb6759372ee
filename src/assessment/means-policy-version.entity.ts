import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { MeansPolicy } from 'src/assessment/means-policy';

/** One immutable version of the means-test policy; a change is a new row, so old assessments keep theirs. */
@Entity('means_policies')
export class MeansPolicyVersion {
  @PrimaryColumn({ type: 'int' }) version: number;
  @Column({ type: 'jsonb' }) policy: MeansPolicy;
  @Column({ type: 'uuid', nullable: true }) createdBy: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
