import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { NotificationDto, NotificationPageDto, NotificationQueryDto } from 'src/notifications/dto/notification.dto';
import { NotificationsService } from 'src/notifications/notifications.service';
import { ParseIdPipe } from 'src/common/validation/parse-id.pipe';

@ApiTags('notifications')
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: 'Delivery log of outgoing email, newest first' })
  @ApiOkResponse({ type: NotificationPageDto })
  list(@Query() query: NotificationQueryDto): Promise<NotificationPageDto> {
    return this.notifications.list(query);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Re-queue a dead notification' })
  @ApiOkResponse({ type: NotificationDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  @ApiConflictResponse({ description: 'The notification is not dead (notification-not-dead), or its contents were emptied after OUTBOX_RETENTION_DAYS (notification-expired)', type: ProblemDto })
  retry(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<NotificationDto> {
    return this.notifications.retry(id, user);
  }
}
