import { Module } from '@nestjs/common';
import { LoginThrottleSweepService } from 'src/auth/login-throttle-sweep.service';

/** Worker role only: the hourly deletion of expired sign-in counters (on the worker's pool, WORKER_DATA_SOURCE). */
@Module({ providers: [LoginThrottleSweepService] })
export class LoginThrottleSweepModule {}
