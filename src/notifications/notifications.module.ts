import { BullModule } from '@nestjs/bull';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from 'src/config/app-config';
import { EmailDeliveryService } from 'src/notifications/email-delivery.service';
import { EmailQueueProducer } from 'src/notifications/email-queue.producer';
import { EmailProcessor } from 'src/notifications/email.processor';
import { MailerService } from 'src/notifications/mailer.service';
import { Notification } from 'src/notifications/notification.entity';
import { NotificationsController } from 'src/notifications/notifications.controller';
import { NotificationsService } from 'src/notifications/notifications.service';
import { OutboxRelayService } from 'src/notifications/outbox-relay.service';
import { OutboxRetentionService } from 'src/notifications/outbox-retention.service';
import { OutboxService } from 'src/notifications/outbox.service';
import { EMAIL_QUEUE, emailQueueSettings } from 'src/notifications/queue.constants';
import { QueuesController } from 'src/notifications/queues.controller';
import { ReviewerDigestScheduler } from 'src/notifications/reviewer-digest.scheduler';
import { ReviewerDigestService } from 'src/notifications/reviewer-digest.service';
import { workerDataSourceModule } from 'src/notifications/worker-data-source';

/**
 * Api role: the outbox writer and the admin endpoints. Worker role adds the relay, the email processor, the
 * reviewer digest's schedule and the emptying of old emails' contents, on a database pool of their own. Both roles hold the queue (the api only reads its counts).
 */
@Global()
@Module({})
export class NotificationsModule {
  static register(config: AppConfig): DynamicModule {
    const worker = config.runsWorker
      ? [OutboxRelayService, EmailProcessor, EmailDeliveryService, MailerService, ReviewerDigestService, ReviewerDigestScheduler, OutboxRetentionService]
      : [];
    return {
      module: NotificationsModule,
      imports: [
        TypeOrmModule.forFeature([Notification]),
        BullModule.registerQueue({ name: EMAIL_QUEUE, settings: emailQueueSettings(config.env) }),
        ...(config.runsWorker ? [workerDataSourceModule(config)] : []),
      ],
      controllers: config.runsApi ? [NotificationsController, QueuesController] : [],
      providers: [OutboxService, NotificationsService, EmailQueueProducer, ...worker],
      exports: [OutboxService, EmailQueueProducer],
    };
  }
}
