import { Controller, Get, Logger } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from 'src/common/auth/access.decorators';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { ProblemException } from 'src/common/problem/problem.exception';
import { AppConfig } from 'src/config/app-config';
import { DatabaseProbeService } from 'src/health/database-probe.service';
import { RedisProbeService } from 'src/health/redis-probe.service';

class LiveDto {
  @ApiProperty({ example: 'ok' }) status: 'ok';
}

class ReadyDto extends LiveDto {
  @ApiProperty({ example: { database: 'up', redis: 'up' } }) checks: Record<'database' | 'redis', 'up' | 'down'>;
}

/** How long a Redis found not to evict keys is taken at its word before its policy is read again. */
const POLICY_RECHECK_MS = 60_000;

@ApiTags('health')
@Controller('health')
export class HealthController {
  private readonly logger = new Logger(HealthController.name);
  private policyFineUntil = 0;
  /** The evicting policy last logged: once per change, not at every probe. */
  private evictingPolicyLogged?: string;

  constructor(
    private readonly database: DatabaseProbeService,
    private readonly redis: RedisProbeService,
    private readonly config: AppConfig,
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
    const [database, redisAnswers] = await Promise.all([this.database.ping(), this.redis.ping()]);
    const redis = redisAnswers && (await this.policyFine());
    const checks = { database: database ? 'up' : 'down', redis: redis ? 'up' : 'down' } as const;
    if (!database || !redis) {
      // Who may read this (anyone) is told what is down, not how Redis is configured: the log says that.
      const down = Object.entries(checks).filter(([, v]) => v === 'down').map(([k]) => k);
      throw new ProblemException(503, 'dependency-down', 'Service unavailable', `Not ready: ${down.join(' and ')} unavailable.`, { checks });
    }
    return { status: 'ok', checks };
  }

  /**
   * Whether Redis keeps its keys (Bull's jobs with them), unless REDIS_ALLOW_EVICTION: start-up refuses a Redis that
   * evicts, but one unreachable then (or reconfigured since) was never checked. A fine policy is read again a minute
   * later; a wrong one at every probe, so that readiness returns as soon as it is set right.
   */
  private async policyFine(): Promise<boolean> {
    if (this.config.env.REDIS_ALLOW_EVICTION || Date.now() < this.policyFineUntil) return true;
    const policy = await this.redis.policyOfAnswering();
    // null: CONFIG did not answer in time (down, as a Redis that stalls is); unknown: it refuses CONFIG, which start-up settles.
    if (policy === null) return false;
    if (policy === 'unknown' || policy === 'noeviction') {
      this.policyFineUntil = Date.now() + POLICY_RECHECK_MS;
      this.evictingPolicyLogged = undefined;
      return true;
    }
    if (this.evictingPolicyLogged !== policy) {
      this.logger.error(`Redis's maxmemory-policy is "${policy}": queued emails could be evicted; set it to noeviction (or REDIS_ALLOW_EVICTION=true)`);
      this.evictingPolicyLogged = policy;
    }
    return false;
  }
}
