import { Module } from '@nestjs/common';
import { IdempotencyKeySweepService } from 'src/common/idempotency/idempotency-key-sweep.service';

/** Worker role only: the hourly deletion of old Idempotency-Key records (on the worker's pool, WORKER_DATA_SOURCE). */
@Module({ providers: [IdempotencyKeySweepService] })
export class IdempotencyKeySweepModule {}
