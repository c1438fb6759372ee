import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { StatementFormat } from 'src/reconciliation/parsers/detect-statement-format';

/** One imported statement file of one hospital; its counters always add up to `entries`. */
@Entity('bank_statements')
export class BankStatement {
  @PrimaryColumn('uuid') id: string;
  @Column({ type: 'uuid' }) hospitalId: string;
  @Column({ type: 'text' }) format: StatementFormat;
  /** Hex sha256 of the file's bytes; unique per hospital. */
  @Column({ type: 'text', nullable: true }) sha256: string | null;
  @Column({ type: 'text', nullable: true }) fileName: string | null;
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } }) sizeBytes: number;
  @Column({ type: 'text', array: true }) statementIds: string[];
  @Column({ type: 'text', nullable: true }) account: string | null;
  @Column({ type: 'int' }) entries: number;
  @Column({ type: 'int' }) matched: number;
  @Column({ type: 'int' }) unmatched: number;
  @Column({ type: 'int' }) mismatched: number;
  @Column({ type: 'int' }) duplicates: number;
  @Column({ type: 'int' }) ignored: number;
  @Column({ type: 'uuid' }) importedBy: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
