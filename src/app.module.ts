import { BullModule } from '@nestjs/bull';
import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApplicationsModule } from 'src/applications/applications.module';
import { AssessmentModule } from 'src/assessment/assessment.module';
import { AuditModule } from 'src/audit/audit.module';
import { AuthModule } from 'src/auth/auth.module';
import { AppConfig } from 'src/config/app-config';
import { ConfigModule } from 'src/config/config.module';
import { DisbursementsModule } from 'src/disbursements/disbursements.module';
import { dataSourceOptions } from 'src/database/data-source';
import { FundModule } from 'src/fund/fund.module';
import { HealthModule } from 'src/health/health.module';
import { HospitalsModule } from 'src/hospitals/hospitals.module';
import { NotificationsModule } from 'src/notifications/notifications.module';
import { ReconciliationModule } from 'src/reconciliation/reconciliation.module';
import { ReviewModule } from 'src/review/review.module';
import { EMAIL_QUEUE_SETTINGS, queueRedisOptions } from 'src/notifications/queue.constants';
import { ReportsModule } from 'src/reports/reports.module';
import { OrphanSweepModule } from 'src/storage/orphan-sweep.module';
import { AuditAnchorModule } from 'src/audit/audit-anchor.module';
import { LoginThrottleSweepModule } from 'src/auth/login-throttle-sweep.module';
import { IdempotencyKeySweepModule } from 'src/common/idempotency/idempotency-key-sweep.module';
import { UsersModule } from 'src/users/users.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    const { DATABASE_URL, DATABASE_POOL_SIZE, DATABASE_ACQUIRE_TIMEOUT_MS, REDIS_URL, QUEUE_PREFIX } = config.env;
    const apiModules = config.runsApi ? [AuthModule, UsersModule, HospitalsModule, FundModule, AssessmentModule, ApplicationsModule, DisbursementsModule, ReviewModule, ReconciliationModule, ReportsModule] : [];
    // The worker's DataSource it uses is registered by NotificationsModule.register when the role runs the worker.
    const workerModules = config.runsWorker ? [OrphanSweepModule, LoginThrottleSweepModule, AuditAnchorModule, IdempotencyKeySweepModule] : [];
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        // No client-side query timeout here (the worker's pool has one): measured, it added ~10 ms to the review
        // queue's p99 at the same throughput (BENCHMARKS.md, eighteenth pass). statement_timeout and TCP keepalive bound
        // a request's wait instead, and readiness takes a replica whose database went silent out of rotation.
        TypeOrmModule.forRoot({ ...dataSourceOptions(DATABASE_URL, DATABASE_POOL_SIZE, DATABASE_ACQUIRE_TIMEOUT_MS), autoLoadEntities: false }),
        BullModule.forRoot({ url: REDIS_URL, redis: queueRedisOptions(REDIS_URL), prefix: QUEUE_PREFIX, settings: EMAIL_QUEUE_SETTINGS }),
        AuditModule.register(config),
        HealthModule,
        NotificationsModule.register(config),
        ...apiModules,
        ...workerModules,
      ],
    };
  }
}
