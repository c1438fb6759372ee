import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { FieldHashes } from 'src/review/field-changes';

/** A reviewer's question to the family, with keyed hashes of every field at that moment (append-only). */
@Entity('info_requests')
export class InfoRequest {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) applicationId: string;
  @Column({ type: 'uuid' }) requestedBy: string;
  @Column({ type: 'text' }) message: string;
  @Column({ type: 'jsonb' }) fieldHashes: FieldHashes;
  @Column({ type: 'timestamptz' }) requestedAt: Date;
}
