import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Who reversed a contribution, when and why; its journal transaction moved the money back. Append-only. */
@Entity('fund_contribution_reversals')
export class ContributionReversal {
  @PrimaryColumn('uuid') contributionId: string;
  @Column({ type: 'bigint' }) journalTransactionId: string;
  @Column({ type: 'text' }) reason: string;
  @Column({ type: 'uuid', nullable: true }) reversedBy: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) reversedAt: Date;
}
