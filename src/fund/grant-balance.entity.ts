import { Column, Entity, PrimaryColumn } from 'typeorm';
import { fenColumn } from 'src/fund/fen-column';

/** One grant's balance on a per-grant account (committed, disbursed), kept by the same trigger as account balances. */
@Entity('ledger_grant_balances')
export class GrantBalance {
  @PrimaryColumn({ type: 'uuid' }) applicationId: string;
  @PrimaryColumn() accountCode: string;
  @Column({ type: 'bigint', transformer: fenColumn }) balance: number;
  @Column({ type: 'timestamptz' }) updatedAt: Date;
}
