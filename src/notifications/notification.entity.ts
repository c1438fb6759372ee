import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Locale } from 'src/users/user.entity';

export type NotificationStatus = 'pending' | 'queued' | 'sent' | 'failed' | 'dead';

/** The outbox row: written in the same transaction as the change that causes the email. */
@Entity('notifications')
export class Notification {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column() event: string;
  @Column() template: string;
  @Column() toEmail: string;
  @Column({ type: 'uuid', nullable: true }) userId: string | null;
  @Column({ type: 'text' }) locale: Locale;
  @Column({ type: 'jsonb' }) context: Record<string, unknown>;
  @Column({ type: 'text' }) status: NotificationStatus;
  @Column({ type: 'int' }) attempts: number;
  @Column({ type: 'text', nullable: true }) lastError: string | null;
  /** Failed sends after the whole message had reached the server (each may have been delivered): see UnconfirmedSendError. */
  @Column({ type: 'smallint', default: 0 }) unconfirmedSends: number;
  /** The Message-ID header (`<row id@domain>`), the same on every copy of this email. */
  @Column({ type: 'text', nullable: true }) messageId: string | null;
  /** The server's reply when it accepted the message (its own queue id, for tracing at the provider). */
  @Column({ type: 'text', nullable: true }) smtpResponse: string | null;
  /** Set when a writer must not create the same email twice (e.g. `reviewer-digest:2026-09-01:<user id>`). */
  @Column({ type: 'text', nullable: true }) dedupKey: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @Column({ type: 'timestamptz', nullable: true }) queuedAt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) sentAt: Date | null;
  /** Until when a worker's send holds the row (its claim): no other send starts before. Null: nobody is sending it. */
  @Column({ type: 'timestamptz', nullable: true }) sendingUntil: Date | null;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
