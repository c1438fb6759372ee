import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

const ALGORITHM = 'aes-256-gcm';
/** "SPRF" and format version 1: what every sealed file starts with. */
const MAGIC = Buffer.from([0x53, 0x50, 0x52, 0x46, 0x01]);
const KEY_ID_BYTES = 4;
const NONCE_PREFIX_BYTES = 7;
const HEADER_BYTES = MAGIC.length + KEY_ID_BYTES + NONCE_PREFIX_BYTES;
const TAG_BYTES = 16;
/** Plaintext per sealed chunk: each chunk is authenticated before any of it is released. */
export const FILE_CHUNK_BYTES = 64 * 1024;
const SEALED_CHUNK_BYTES = FILE_CHUNK_BYTES + TAG_BYTES;

/**
 * Encrypts stored files (uploaded documents: ID scans, medical records, income proofs) as a stream, so a copy of the
 * upload directory or of its backups shows nothing without the key.
 *
 * AES-256-GCM in 64 KiB chunks, as the STREAM construction (and age, and Tink's streaming AEAD) does it: each chunk's
 * nonce is a random per-file prefix, the chunk's number and a last-chunk flag, and the file's header is authenticated
 * with every chunk. A reader gets no byte of a chunk that fails authentication, and a file cut short, extended, or with
 * chunks reordered or taken from another file fails. One GCM tag over a whole file would release unauthenticated bytes
 * of a 100 MiB download before the tag at its end could be checked.
 *
 * The key is derived from DATA_ENCRYPTION_KEY for this use alone (HKDF), so it is never the key of the national ids.
 */
export class FileCipher {
  private readonly key: Buffer;
  private readonly keyId: Buffer;

  static fromEnv(env: { DATA_ENCRYPTION_KEY: string }): FileCipher {
    return new FileCipher(Buffer.from(env.DATA_ENCRYPTION_KEY.trim(), 'base64'));
  }

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('The encryption key must be 32 bytes');
    this.key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'sprout stored files v1', 32));
    // Names the key in each file's header, so a file sealed under another key fails with that said, not as tampering.
    this.keyId = createHash('sha256').update(this.key).digest().subarray(0, KEY_ID_BYTES);
  }

  /** Plaintext in, sealed file out; `plaintextBytes` once it has ended. */
  encryptor(): FileEncryptor {
    return new FileEncryptor(this.key, Buffer.concat([MAGIC, this.keyId, randomBytes(NONCE_PREFIX_BYTES)]));
  }

  /**
   * A sealed file in, its plaintext out. A file stored before files were encrypted passes through unchanged, unless
   * `sealedOnly`: once every stored file is sealed, one that is not was put there by someone else, and is refused.
   */
  decryptor(options: { sealedOnly?: boolean } = {}): Transform {
    return new FileDecryptor(this.key, this.keyId, options.sealedOnly === true);
  }

  /** Whether a file starting with `head` (its first bytes, at least five) was sealed by a FileCipher. */
  static isSealed(head: Buffer): boolean {
    return head.length >= MAGIC.length && head.subarray(0, MAGIC.length).equals(MAGIC);
  }
}

export class FileEncryptor extends Transform {
  plaintextBytes = 0;
  private readonly pending = new PendingBytes();
  private chunkNumber = 0;

  constructor(
    private readonly key: Buffer,
    private readonly header: Buffer,
  ) {
    super();
    this.push(header);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.plaintextBytes += chunk.length;
    this.pending.add(chunk);
    // Only a chunk known not to be the last is sealed here: the last one is flagged as such, in _flush.
    while (this.pending.length > FILE_CHUNK_BYTES) this.push(this.seal(this.pending.take(FILE_CHUNK_BYTES), false));
    done();
  }

  override _flush(done: TransformCallback): void {
    this.push(this.seal(this.pending.take(this.pending.length), true));
    done();
  }

  private seal(plain: Buffer, last: boolean): Buffer {
    const cipher = createCipheriv(ALGORITHM, this.key, chunkNonce(this.header, this.chunkNumber++, last), { authTagLength: TAG_BYTES });
    cipher.setAAD(this.header);
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  }
}

class FileDecryptor extends Transform {
  private readonly pending = new PendingBytes();
  private mode: 'deciding' | 'plain' | 'sealed' = 'deciding';
  private header: Buffer | null = null;
  private chunkNumber = 0;

  constructor(
    private readonly key: Buffer,
    private readonly keyId: Buffer,
    private readonly sealedOnly: boolean,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.mode === 'plain') return done(null, chunk);
    this.pending.add(chunk);
    try {
      if (!this.header) this.decide(false);
      if (this.isPlain()) return done(null, this.pending.take(this.pending.length));
      if (this.header) {
        while (this.pending.length > SEALED_CHUNK_BYTES) this.push(this.open(this.pending.take(SEALED_CHUNK_BYTES), false));
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.header && !this.isPlain()) this.decide(true);
      if (this.isPlain()) return done(null, this.pending.take(this.pending.length));
      if (!this.header || this.pending.length < TAG_BYTES) throw new Error('The stored file is cut short');
      done(null, this.open(this.pending.take(this.pending.length), true));
    } catch (error) {
      done(error as Error);
    }
  }

  /** A method, not a field read: decide() changes the mode where the compiler's narrowing does not look. */
  private isPlain(): boolean {
    return this.mode === 'plain';
  }

  /** Sealed when the file starts with the magic bytes; plain (stored before encryption) as soon as it cannot. */
  private decide(ended: boolean): void {
    const head = this.pending.peek(MAGIC.length);
    if (!MAGIC.subarray(0, head.length).equals(head)) this.mode = 'plain';
    else if (head.length === MAGIC.length) this.mode = 'sealed';
    else if (ended) this.mode = 'plain';
    if (this.mode === 'plain' && this.sealedOnly) throw new Error('The stored file is not encrypted, and every stored file should be (UPLOADS_SEALED_ONLY)');
    if (this.mode !== 'sealed' || this.pending.length < HEADER_BYTES) return;
    const header = this.pending.take(HEADER_BYTES);
    if (!header.subarray(MAGIC.length, MAGIC.length + KEY_ID_BYTES).equals(this.keyId)) {
      throw new Error('The stored file was encrypted under another key than DATA_ENCRYPTION_KEY');
    }
    this.header = header;
  }

  private open(sealed: Buffer, last: boolean): Buffer {
    const header = this.header!;
    const decipher = createDecipheriv(ALGORITHM, this.key, chunkNonce(header, this.chunkNumber++, last), { authTagLength: TAG_BYTES });
    decipher.setAAD(header);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error('The stored file failed authentication (altered, cut short or extended)');
    }
  }
}

/** The header's nonce prefix, the chunk's number (big-endian) and 1 for the last chunk, 0 before it: 12 bytes. */
function chunkNonce(header: Buffer, chunkNumber: number, last: boolean): Buffer {
  if (chunkNumber > 0xffffffff) throw new Error('A stored file may have at most 2^32 chunks');
  const nonce = Buffer.alloc(12);
  header.copy(nonce, 0, MAGIC.length + KEY_ID_BYTES, HEADER_BYTES);
  nonce.writeUInt32BE(chunkNumber, NONCE_PREFIX_BYTES);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Bytes received and not yet used, kept as the chunks they came in (no copying until taken). */
class PendingBytes {
  private chunks: Buffer[] = [];
  length = 0;

  add(chunk: Buffer): void {
    if (!chunk.length) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  peek(bytes: number): Buffer {
    return this.collect(Math.min(bytes, this.length), false);
  }

  take(bytes: number): Buffer {
    return this.collect(bytes, true);
  }

  private collect(bytes: number, remove: boolean): Buffer {
    const parts: Buffer[] = [];
    let needed = bytes;
    let index = 0;
    while (needed > 0) {
      const chunk = this.chunks[index];
      const part = chunk.length <= needed ? chunk : chunk.subarray(0, needed);
      parts.push(part);
      needed -= part.length;
      if (!remove) index++;
      else if (part.length === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part.length);
    }
    if (remove) this.length -= bytes;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, bytes);
  }
}
