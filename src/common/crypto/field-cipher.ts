import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Encrypts sensitive columns (national ids) at rest and derives a keyed hash for equality look-ups,
 * so duplicates can be found without decrypting and the hash cannot be brute-forced without the key.
 */
export class FieldCipher {
  private readonly encryptionKey: Buffer;
  private readonly hashKey: Buffer;

  /** With the keys the service is configured with (DATA_ENCRYPTION_KEY, DATA_HASH_KEY). */
  static fromEnv(env: { DATA_ENCRYPTION_KEY: string; DATA_HASH_KEY: string }): FieldCipher {
    return new FieldCipher(env.DATA_ENCRYPTION_KEY, env.DATA_HASH_KEY);
  }

  constructor(encryptionKeyBase64: string, hashKeyBase64: string) {
    this.encryptionKey = decodeKey(encryptionKeyBase64, 'encryption key');
    this.hashKey = decodeKey(hashKeyBase64, 'hash key');
    // One key for both jobs would let a weakness of either use spill into the other.
    if (this.encryptionKey.equals(this.hashKey)) throw new Error('The encryption key and the hash key must differ');
  }

  /** "v1.<iv>.<tag>.<ciphertext>" in base64url, with a fresh random IV each time. */
  encrypt(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.encryptionKey, iv, { authTagLength: TAG_BYTES });
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const encode = (bytes: Buffer) => bytes.toString('base64url');
    return `${VERSION}.${encode(iv)}.${encode(cipher.getAuthTag())}.${encode(ciphertext)}`;
  }

  /** Throws on any malformed, tampered or foreign token; never returns unauthenticated plaintext. */
  decrypt(token: string): string {
    const parts = token.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION || !parts.slice(1).every((part) => BASE64URL.test(part))) {
      throw new Error('Not a field cipher token');
    }
    const [iv, tag, ciphertext] = parts.slice(1).map((part) => Buffer.from(part, 'base64url'));
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('Not a field cipher token');
    const decipher = createDecipheriv(ALGORITHM, this.encryptionKey, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('The field cipher token failed authentication');
    }
  }

  /** HMAC-SHA256 in hex: equal inputs give equal hashes under one key, nothing readable without it. */
  keyedHash(value: string): string {
    return createHmac('sha256', this.hashKey).update(value, 'utf8').digest('hex');
  }
}

function decodeKey(base64: string, name: string): Buffer {
  const trimmed = base64.trim();
  const key = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (key.length !== KEY_BYTES) throw new Error(`The ${name} must be ${KEY_BYTES} bytes in base64`);
  return key;
}
