import { Module } from '@nestjs/common';
import { FileCipher } from 'src/common/crypto/file-cipher';
import { AppConfig } from 'src/config/app-config';
import { EncryptedStorage } from 'src/storage/encrypted.storage';
import { LocalDiskStorage } from 'src/storage/local-disk.storage';
import { ObjectStorage } from 'src/storage/object-storage';

/**
 * Provides ObjectStorage: local disk under UPLOAD_DIR today, every object encrypted on its way there; an
 * S3-compatible implementation can replace the disk here.
 */
@Module({
  providers: [{ provide: ObjectStorage, inject: [AppConfig], useFactory: (config: AppConfig) => documentStorage(config) }],
  exports: [ObjectStorage],
})
export class StorageModule {}

export function documentStorage(config: AppConfig): EncryptedStorage {
  return new EncryptedStorage(new LocalDiskStorage(config.env.UPLOAD_DIR), FileCipher.fromEnv(config.env), config.env.UPLOADS_SEALED_ONLY);
}
