import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { fenColumn } from 'src/fund/fen-column';

/** Signed fen: positive debits the account, negative credits it. Append-only. */
@Entity('ledger_entries')
export class LedgerEntry {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column({ type: 'bigint' }) transactionId: string;
  @Column() accountCode: string;
  @Column({ type: 'uuid', nullable: true }) applicationId: string | null;
  @Column({ type: 'bigint', transformer: fenColumn }) amount: number;
  @Column({ type: 'timestamptz' }) createdAt: Date;
}
