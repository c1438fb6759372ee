import { Injectable } from '@nestjs/common';
import { FieldCipher } from 'src/common/crypto/field-cipher';
import { AppConfig } from 'src/config/app-config';

export type SealedNationalId = { encrypted: string; hash: string };

/** The only code that turns national ids into ciphertext and back (AES-256-GCM, keys from config). */
@Injectable()
export class NationalIdVault {
  private readonly cipher: FieldCipher;

  constructor(config: AppConfig) {
    this.cipher = FieldCipher.fromEnv(config.env);
  }

  /** Outside the app (start-up's key check): with these keys. */
  static withKeys(keys: Pick<AppConfig['env'], 'DATA_ENCRYPTION_KEY' | 'DATA_HASH_KEY'>): NationalIdVault {
    return new NationalIdVault({ env: keys } as AppConfig);
  }

  /** Expects a normalized, validated id. */
  seal(nationalId: string): SealedNationalId {
    return { encrypted: this.cipher.encrypt(nationalId), hash: this.hash(nationalId) };
  }

  open(encrypted: string | null): string | null {
    return encrypted === null ? null : this.cipher.decrypt(encrypted);
  }

  /** Keyed hash for equality look-ups (the same child in two applications) without decrypting anything. */
  hash(nationalId: string): string {
    return this.cipher.keyedHash(`national-id:${nationalId}`);
  }
}
