import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A reviewer who may not decide the cases of one family (applicant account) or of one hospital. */
@Entity('reviewer_conflicts')
export class ReviewerConflict {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) reviewerId: string;
  @Column({ type: 'uuid', nullable: true }) applicantId: string | null;
  @Column({ type: 'uuid', nullable: true }) hospitalId: string | null;
  @Column({ type: 'uuid', nullable: true }) createdBy: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
