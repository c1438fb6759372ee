import { Module } from '@nestjs/common';
import { AppConfig } from 'src/config/app-config';
import { LocalDiskStorage } from 'src/storage/local-disk.storage';
import { ObjectStorage } from 'src/storage/object-storage';

/** Provides ObjectStorage: local disk under UPLOAD_DIR today; an S3-compatible implementation can replace it here. */
@Module({
  providers: [{ provide: ObjectStorage, inject: [AppConfig], useFactory: (config: AppConfig) => new LocalDiskStorage(config.env.UPLOAD_DIR) }],
  exports: [ObjectStorage],
})
export class StorageModule {}
