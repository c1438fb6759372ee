import { Module } from '@nestjs/common';
import { OrphanSweeperService } from 'src/storage/orphan-sweeper.service';
import { StorageModule } from 'src/storage/storage.module';

/** Worker role only: the daily sweep of document files no row references (on the worker's pool, WORKER_DATA_SOURCE). */
@Module({
  imports: [StorageModule],
  providers: [OrphanSweeperService],
})
export class OrphanSweepModule {}
