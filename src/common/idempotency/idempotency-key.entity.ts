import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('idempotency_keys')
export class IdempotencyKeyRecord {
  @PrimaryColumn() principal: string;
  @PrimaryColumn() key: string;
  @Column() operation: string;
  @Column() requestHash: string;
  @Column({ type: 'text' }) status: 'in_flight' | 'completed';
  @Column({ type: 'uuid' }) attempt: string;
  @Column({ type: 'integer', nullable: true }) responseStatus: number | null;
  @Column({ type: 'text', nullable: true }) responseBody: string | null;
  @Column({ type: 'timestamptz' }) createdAt: Date;
  @Column({ type: 'timestamptz' }) startedAt: Date;
  @Column({ type: 'timestamptz', nullable: true }) completedAt: Date | null;
}
