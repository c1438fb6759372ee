import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from 'src/common/pagination/pagination';
import { Notification, NotificationStatus } from 'src/notifications/notification.entity';

const STATUSES: NotificationStatus[] = ['pending', 'queued', 'sent', 'failed', 'dead'];

export class NotificationQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional() @IsIn(STATUSES)
  status?: NotificationStatus;
}

export class NotificationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'application.approved' }) event: string;
  @ApiProperty({ example: 'family@example.org' }) to: string;
  @ApiProperty({ example: 'application-approved' }) template: string;
  @ApiProperty({ enum: STATUSES }) status: NotificationStatus;
  @ApiProperty() attempts: number;
  @ApiPropertyOptional({ type: String, nullable: true }) lastError: string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) sentAt: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Message-ID header, the same on every copy' }) messageId: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: "The SMTP server's reply on acceptance" }) smtpResponse: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;

  static from(n: Notification): NotificationDto {
    return {
      id: n.id,
      event: n.event,
      to: n.toEmail,
      template: n.template,
      status: n.status,
      attempts: n.attempts,
      lastError: n.lastError,
      sentAt: n.sentAt?.toISOString() ?? null,
      messageId: n.messageId,
      smtpResponse: n.smtpResponse,
      createdAt: n.createdAt.toISOString(),
    };
  }
}

export class NotificationPageDto {
  @ApiProperty({ type: [NotificationDto] }) items: NotificationDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
