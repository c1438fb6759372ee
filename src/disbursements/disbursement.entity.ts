import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { fenColumn } from 'src/fund/fen-column';

export const DISBURSEMENT_STATUSES = ['scheduled', 'paid', 'reconciled', 'cancelled', 'returned'] as const;
export type DisbursementStatus = (typeof DISBURSEMENT_STATUSES)[number];

/**
 * One tranche of an approved grant, paid to the treating hospital. The payee's bank details are a snapshot
 * taken when the tranche was scheduled (or re-scheduled after a return, or repointed by fund finance): editing the
 * hospital later does not by itself redirect a payment already scheduled.
 */
@Entity('disbursements')
export class Disbursement {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) applicationId: string;
  @Column({ type: 'uuid' }) hospitalId: string;
  @Column({ type: 'int' }) trancheNumber: number;
  @Column({ type: 'int' }) trancheCount: number;
  @Column() label: string;
  @Column() reference: string;
  @Column({ type: 'bigint', transformer: fenColumn }) amount: number;
  @Column() currency: string;
  @Column({ type: 'text' }) status: DisbursementStatus;
  @Column() payeeBankName: string;
  @Column() payeeAccountName: string;
  @Column() payeeAccountNumber: string;
  @Column({ type: 'uuid', nullable: true }) currentPaymentId: string | null;
  @Column({ type: 'timestamptz', nullable: true }) reconciledAt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) cancelledAt: Date | null;
  @Column({ type: 'text', nullable: true }) cancelReason: string | null;
  @Column({ type: 'uuid', nullable: true }) cancelledBy: string | null;
  /** When the tranche last went out in a payment file, while scheduled; cleared when it is returned, rescheduled or repointed. */
  @Column({ type: 'timestamptz', nullable: true }) exportedAt: Date | null;
  @Column({ type: 'int' }) version: number;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
