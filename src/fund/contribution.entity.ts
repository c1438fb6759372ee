import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { fenColumn } from 'src/fund/fen-column';

/** A donation received into the fund. Append-only, like the ledger entries it caused. */
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
}
