import { Global, Module } from '@nestjs/common';
import { DatabaseProbeService } from 'src/health/database-probe.service';
import { HealthController } from 'src/health/health.controller';
import { RedisProbeService } from 'src/health/redis-probe.service';

@Global()
@Module({ controllers: [HealthController], providers: [DatabaseProbeService, RedisProbeService], exports: [RedisProbeService] })
export class HealthModule {}
