import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { FUND_TIME_ZONE } from 'src/fund/calendar-date';
import { fenColumn } from 'src/fund/fen-column';

/**
 * SQL for the day a payment came back: the day fund finance stated, or for payments returned before it could, the
 * day the return was recorded (Asia/Shanghai). `alias` names the disbursement_payments row, e.g. 'p'.
 */
export const returnDay = (alias?: string): string => {
  const column = (name: string) => (alias ? `${alias}.${name}` : name);
  return `coalesce(${column('returned_on')}, (${column('returned_at')} AT TIME ZONE '${FUND_TIME_ZONE}')::date)`;
};

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
  /** `YYYY-MM-DD`, the day the bank returned it (null for returns recorded before this column: see returnDay). */
  @Column({ type: 'date', nullable: true }) returnedOn: string | null;
  @Column({ type: 'uuid', nullable: true }) returnedBy: string | null;
  @Column({ type: 'text', nullable: true }) returnReason: string | null;
  @Column({ type: 'bigint', nullable: true }) returnJournalTransactionId: string | null;
}
