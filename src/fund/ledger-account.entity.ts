import { Column, Entity, PrimaryColumn } from 'typeorm';
import { fenColumn } from 'src/fund/fen-column';

/** `balance` is a cache of the account's entries, kept by a trigger; GET /fund/ledger/verify proves it. */
@Entity('ledger_accounts')
export class LedgerAccount {
  @PrimaryColumn() code: string;
  @Column({ type: 'text' }) normalSide: 'debit' | 'credit';
  @Column() perGrant: boolean;
  @Column({ type: 'bigint', transformer: fenColumn }) balance: number;
  @Column({ type: 'timestamptz' }) createdAt: Date;
  @Column({ type: 'timestamptz' }) updatedAt: Date;
}
