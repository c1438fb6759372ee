import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class JobCountsDto {
  @ApiProperty() waiting: number;
  @ApiProperty() active: number;
  @ApiProperty() delayed: number;
  @ApiProperty() completed: number;
  @ApiProperty() failed: number;
  @ApiProperty() paused: number;
}

export class RepeatableJobDto {
  @ApiProperty({ example: 'reviewer-digest' }) name: string;
  @ApiProperty({ example: '0 8 * * *' }) cron: string;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'Asia/Shanghai' }) tz: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) next: string;
}

export class QueueStateDto {
  @ApiProperty({ example: 'email' }) name: string;
  @ApiProperty({ description: 'false when Redis did not answer; counts are then null' }) available: boolean;
  @ApiPropertyOptional({ type: JobCountsDto, nullable: true }) counts: JobCountsDto | null;
  @ApiProperty({ type: [RepeatableJobDto] }) repeatable: RepeatableJobDto[];
}

export class OutboxCountsDto {
  @ApiProperty() pending: number;
  @ApiProperty() queued: number;
  @ApiProperty() sent: number;
  @ApiProperty() failed: number;
  @ApiProperty() dead: number;
}

export class QueueOverviewDto {
  @ApiProperty({ type: [QueueStateDto] }) queues: QueueStateDto[];
  @ApiProperty({ type: OutboxCountsDto, description: 'Outbox rows by status (from PostgreSQL: available while Redis is down)' })
  outbox: OutboxCountsDto;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'Creation time of the oldest row not yet sent or dead' })
  oldestOpenAt: string | null;
}
