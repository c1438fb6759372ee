import { Injectable, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from 'src/config/app-config';

/** A dedicated Redis connection for health checks: fails fast instead of queueing commands while Redis is away. */
@Injectable()
export class RedisProbeService implements OnModuleDestroy {
  private readonly client: Redis;

  constructor(config: AppConfig) {
    this.client = new Redis(config.env.REDIS_URL, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.client.on('error', () => undefined); // reported through ping(), not as an unhandled event
  }

  async ping(timeoutMs = 1500): Promise<boolean> {
    try {
      if (this.client.status === 'wait') await this.client.connect();
      const reply = await Promise.race([this.client.ping(), sleep(timeoutMs).then(() => 'timeout')]);
      return reply === 'PONG';
    } catch {
      return false;
    }
  }

  /**
   * Bull loses jobs if Redis evicts keys; refuse to run on such a Redis unless told otherwise. null when Redis is not
   * reachable; 'unknown' when it refuses CONFIG (managed services and ACL users often do).
   */
  async evictionPolicy(): Promise<string | null> {
    if (!(await this.ping(2000))) return null;
    return this.policyOfAnswering();
  }

  /** evictionPolicy() of a Redis that just answered a ping (readiness): null too when CONFIG does not answer in time. */
  async policyOfAnswering(timeoutMs = 1500): Promise<string | null> {
    try {
      const reply = await Promise.race([this.client.config('GET', 'maxmemory-policy') as Promise<string[]>, sleep(timeoutMs).then(() => null)]);
      return reply === null ? null : (reply[1] ?? 'unknown');
    } catch {
      return 'unknown';
    }
  }

  onModuleDestroy(): void {
    this.client.disconnect();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
