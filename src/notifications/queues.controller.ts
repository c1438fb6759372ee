import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from 'src/common/auth/access.decorators';
import { QueueOverviewDto } from 'src/notifications/dto/queue-overview.dto';
import { NotificationsService } from 'src/notifications/notifications.service';

/** The admin's view of the queues (a small JSON stand-in for Bull Board, behind the normal auth guard). */
@ApiTags('notifications')
@Controller('admin/queues')
export class QueuesController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: 'Job counts of the Bull queues, the repeatable jobs, and the outbox by status' })
  @ApiOkResponse({ type: QueueOverviewDto })
  overview(): Promise<QueueOverviewDto> {
    return this.notifications.queueOverview();
  }
}
