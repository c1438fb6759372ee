import { Global, Module } from '@nestjs/common';
import { HealthController } from 'src/health/health.controller';
import { RedisProbeService } from 'src/health/redis-probe.service';

@Global()
@Module({ controllers: [HealthController], providers: [RedisProbeService], exports: [RedisProbeService] })
export class HealthModule {}
