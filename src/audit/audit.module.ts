import { DynamicModule, Global, Module } from '@nestjs/common';
import { AuditController } from 'src/audit/audit.controller';
import { AuditService } from 'src/audit/audit.service';
import type { AppConfig } from 'src/config/app-config';

/**
 * Every role records audit events; only the api serves the trail's verification. A worker has no AuthModule (its
 * guard is the api's), so a controller here would answer anyone who reaches the worker's port, unauthenticated.
 */
@Global()
@Module({})
export class AuditModule {
  static register(config: AppConfig): DynamicModule {
    return { module: AuditModule, controllers: config.runsApi ? [AuditController] : [], providers: [AuditService], exports: [AuditService] };
  }
}
