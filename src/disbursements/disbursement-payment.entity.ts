import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { fenColumn } from 'src/fund/fen-column';

/** A payment of a tranche. At most one per tranche is live (unreturned): a partial unique index says so. */
@Entity('disbursement_payments')
export class DisbursementPayment {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) disbursementId: string;
  @Column({ type: 'bigint', transformer: fenColumn }) amount: number;
  /** `YYYY-MM-DD` */
  @Column({ type: 'date' }) paidOn: string;
  @Column() bankReference: string;
  @Column({ type: 'uuid' }) paidBy: string;
  @Column({ type: 'bigint' }) journalTransactionId: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @Column({ type: 'timestamptz', nullable: true }) returnedAt: Date | null;
  @Column({ type: 'uuid', nullable: true }) returnedBy: string | null;
  @Column({ type: 'text', nullable: true }) returnReason: string | null;
  @Column({ type: 'bigint', nullable: true }) returnJournalTransactionId: string | null;
}
