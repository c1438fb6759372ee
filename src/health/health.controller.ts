import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from 'src/common/auth/access.decorators';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { ProblemException } from 'src/common/problem/problem.exception';
import { DatabaseProbeService } from 'src/health/database-probe.service';
import { RedisProbeService } from 'src/health/redis-probe.service';

class LiveDto {
  @ApiProperty({ example: 'ok' }) status: 'ok';
}

class ReadyDto extends LiveDto {
  @ApiProperty({ example: { database: 'up', redis: 'up' } }) checks: Record<'database' | 'redis', 'up' | 'down'>;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly database: DatabaseProbeService,
    private readonly redis: RedisProbeService,
  ) {}

  @Get('live')
  @Public()
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse({ type: LiveDto })
  live(): LiveDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({ summary: 'PostgreSQL and Redis both answer' })
  @ApiOkResponse({ type: ReadyDto })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down', type: ProblemDto })
  async ready(): Promise<ReadyDto> {
    const [database, redis] = await Promise.all([this.database.ping(), this.redis.ping()]);
    const checks = { database: database ? 'up' : 'down', redis: redis ? 'up' : 'down' } as const;
    if (!database || !redis) {
      const down = Object.entries(checks).filter(([, v]) => v === 'down').map(([k]) => k);
      throw new ProblemException(503, 'dependency-down', 'Service unavailable', `Not ready: ${down.join(' and ')} unavailable.`, { checks });
    }
    return { status: 'ok', checks };
  }
}
