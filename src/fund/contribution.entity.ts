import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { ContributionReversal } from 'src/fund/contribution-reversal.entity';
import { fenColumn } from 'src/fund/fen-column';

/**
 * A donation received into the fund. Append-only, like the ledger entries it caused: one recorded by mistake is
 * reversed (ContributionReversal), not changed. The database keys its reference (`normalized_reference`, migration
 * ContributionReferenceKeys); nothing here reads or writes that key.
 */
@Entity('fund_contributions')
export class Contribution {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'bigint', transformer: fenColumn }) amount: number;
  @Column() donorName: string;
  /** `YYYY-MM-DD`: pg's date type is read as a string, never shifted by a time zone. */
  @Column({ type: 'date' }) receivedOn: string;
  @Column() reference: string;
  @Column({ type: 'uuid', nullable: true }) recordedBy: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  /** Joined by ContributionsService when read; null when not reversed. */
  reversal?: ContributionReversal | null;
}
