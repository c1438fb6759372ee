import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { MovementKind } from 'src/fund/ledger-movements';

/** One movement of money: its entries sum to zero (checked by the database at commit). Append-only. */
@Entity('journal_transactions')
export class JournalTransaction {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column({ type: 'text' }) kind: MovementKind;
  /** Unique: the same movement cannot be posted twice (e.g. `commitment:<applicationId>`). */
  @Column() postingKey: string;
  @Column({ type: 'uuid', nullable: true }) contributionId: string | null;
  @Column({ type: 'uuid', nullable: true }) applicationId: string | null;
  @Column({ type: 'uuid', nullable: true }) disbursementId: string | null;
  @Column({ type: 'uuid', nullable: true }) actorId: string | null;
  @Column({ type: 'text', nullable: true }) actorRole: string | null;
  @Column({ type: 'timestamptz' }) createdAt: Date;
}
