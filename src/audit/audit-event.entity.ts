import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('audit_events')
export class AuditEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column({ type: 'timestamptz' }) occurredAt: Date;
  @Column({ type: 'uuid', nullable: true }) actorId: string | null;
  @Column({ type: 'text', nullable: true }) actorRole: string | null;
  @Column() action: string;
  @Column() objectType: string;
  @Column({ type: 'text', nullable: true }) objectId: string | null;
  @Column({ type: 'jsonb' }) summary: Record<string, unknown>;
  @Column({ type: 'text', nullable: true }) requestId: string | null;
  @Column() prevHash: string;
  @Column() hash: string;
}
