import { Injectable } from '@nestjs/common';
import { FieldCipher } from 'src/common/crypto/field-cipher';
import { AppConfig } from 'src/config/app-config';

/**
 * Names an email address in the audit trail without writing it: an attempt on an address with no account must not
 * leave the address (nor, by its presence, a guess at who is a family of the fund) readable in the trail. Keyed with
 * DATA_HASH_KEY, as national ids are, so a guessed address cannot be checked against it without the key.
 */
@Injectable()
export class AccountEmailHasher {
  private readonly cipher: FieldCipher;

  constructor(config: AppConfig) {
    this.cipher = FieldCipher.fromEnv(config.env);
  }

  /** Expects the normalized address (trimmed, lower case), as the DTOs give it. */
  hash(email: string): string {
    return this.cipher.keyedHash(`account-email:${email}`);
  }
}
