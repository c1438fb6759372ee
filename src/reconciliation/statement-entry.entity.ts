import { Column, Entity, PrimaryColumn } from 'typeorm';
import { fenColumn } from 'src/fund/fen-column';
import type { MatchStatus } from 'src/reconciliation/matching';

/** One entry of an imported statement and what matching (automatic or by a person) decided for it. */
@Entity('statement_entries')
export class StatementEntry {
  @PrimaryColumn('uuid') id: string;
  @Column({ type: 'uuid' }) statementId: string;
  @Column({ type: 'uuid' }) hospitalId: string;
  /** 0-based position in the file. */
  @Column({ type: 'int' }) position: number;
  /** "line 12" or "Stmt[1]/Ntry[3]". */
  @Column() location: string;
  @Column({ type: 'date' }) bookingDate: string;
  @Column({ type: 'date', nullable: true }) valueDate: string | null;
  /** Positive minor units; the direction is creditDebit. */
  @Column({ type: 'bigint', transformer: fenColumn }) amount: number;
  @Column({ type: 'text' }) creditDebit: 'CRDT' | 'DBIT';
  @Column() currency: string;
  @Column({ type: 'text', nullable: true }) entryStatus: string | null;
  @Column() reversal: boolean;
  @Column({ type: 'text', nullable: true }) accountServicerReference: string | null;
  @Column({ type: 'text', nullable: true }) endToEndId: string | null;
  @Column({ type: 'text', nullable: true }) instructionId: string | null;
  @Column() remittance: string;
  @Column({ type: 'jsonb' }) structuredReferences: string[];
  @Column({ type: 'text', nullable: true }) counterparty: string | null;
  @Column({ type: 'text', nullable: true }) additionalInfo: string | null;
  /** The Sprout tranche reference the decision is about, if any. */
  @Column({ type: 'text', nullable: true }) reference: string | null;
  @Column({ type: 'text', nullable: true }) fingerprint: string | null;
  @Column({ type: 'text' }) status: MatchStatus;
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @Column({ type: 'uuid', nullable: true }) disbursementId: string | null;
  @Column({ type: 'text', nullable: true }) matchKind: 'auto' | 'manual' | null;
  @Column({ type: 'uuid', nullable: true }) matchedBy: string | null;
  @Column({ type: 'timestamptz', nullable: true }) matchedAt: Date | null;
  /** A manual match of a credit differing from its tranche: why it is the tranche's payment all the same. */
  @Column({ type: 'text', nullable: true }) matchNote: string | null;
  /** An exception a person settled (it needs no more of Sprout): when, by whom, why. All three or none. */
  @Column({ type: 'timestamptz', nullable: true }) resolvedAt: Date | null;
  @Column({ type: 'uuid', nullable: true }) resolvedBy: string | null;
  @Column({ type: 'text', nullable: true }) resolutionNote: string | null;
}
