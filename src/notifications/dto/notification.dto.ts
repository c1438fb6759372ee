import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from 'src/common/pagination/pagination';
import { Notification, NotificationStatus } from 'src/notifications/notification.entity';
import { EmptyAsAbsent } from 'src/common/validation/empty-as-absent';

/**
 * The delivery log's statuses (API.md). `pending` covers both steps before a send: waiting in the outbox and handed to
 * the queue (the row's own `queued`, told apart by `queuedAt`; GET /admin/queues counts them apart).
 */
export type DeliveryStatus = Exclude<NotificationStatus, 'queued'>;
export const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'sent', 'failed', 'dead'];
export const deliveryStatus = (status: NotificationStatus): DeliveryStatus => (status === 'queued' ? 'pending' : status);

export class NotificationQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES, description: 'pending: not sent yet, in the outbox or in the queue' })
  @IsOptional() @EmptyAsAbsent() @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;
}

export class NotificationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'application.approved' }) event: string;
  @ApiProperty({ example: 'family@example.org' }) to: string;
  @ApiProperty({ example: 'application-approved' }) template: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty() attempts: number;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({
    description: 'Failed sends after the whole message had reached the server, before it confirmed it: the recipient may have had it this many times. The second ends the email as dead instead of sending it again; a retry starts the count anew.',
  })
  unconfirmedSends: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) sentAt: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Message-ID header, the same on every copy' }) messageId: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: "The SMTP server's reply on acceptance" }) smtpResponse: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'When the relay last handed it to the queue' })
  queuedAt: string | null;

  static from(n: Notification): NotificationDto {
    return {
      id: n.id,
      event: n.event,
      to: n.toEmail,
      template: n.template,
      status: deliveryStatus(n.status),
      attempts: n.attempts,
      lastError: n.lastError,
      unconfirmedSends: n.unconfirmedSends,
      sentAt: n.sentAt?.toISOString() ?? null,
      messageId: n.messageId,
      smtpResponse: n.smtpResponse,
      createdAt: n.createdAt.toISOString(),
      queuedAt: n.queuedAt?.toISOString() ?? null,
    };
  }
}

export class NotificationPageDto {
  @ApiProperty({ type: [NotificationDto] }) items: NotificationDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
