import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileCipher } from 'src/common/crypto/file-cipher';
import { ObjectNotFoundError, ObjectStorage, StoredEntry } from 'src/storage/object-storage';

/**
 * Seals every object before it reaches the store underneath and opens it on the way out (FileCipher), so what lies on
 * disk, in a backup or in a bucket is of no use without DATA_ENCRYPTION_KEY. Sizes are the plaintext's. Objects
 * stored before encryption are read as they are; `sealStoredBefore` (npm run documents:seal) encrypts them.
 */
export class EncryptedStorage extends ObjectStorage {
  constructor(
    private readonly inner: ObjectStorage,
    private readonly cipher: FileCipher,
    /** Refuse to serve an object that is not sealed (UPLOADS_SEALED_ONLY, once documents:seal has run). */
    private readonly sealedOnly = false,
  ) {
    super();
  }

  put(key: string, content: Readable): Promise<{ size: number }> {
    return this.sealInto(content, (sealed) => this.inner.put(key, sealed));
  }

  replace(key: string, content: Readable): Promise<{ size: number }> {
    return this.sealInto(content, (sealed) => this.inner.replace(key, sealed));
  }

  async get(key: string): Promise<Readable> {
    const stored = await this.inner.get(key);
    const decryptor = this.cipher.decryptor({ sealedOnly: this.sealedOnly });
    // The reader sees any failure as the decryptor's error; a reader that stops early closes the stored object.
    pipeline(stored, decryptor).catch(() => undefined);
    return decryptor;
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  list(prefix: string): AsyncIterable<StoredEntry> {
    return this.inner.list(prefix);
  }

  deleteUnfinished(upload: string): Promise<void> {
    return this.inner.deleteUnfinished(upload);
  }

  /**
   * Encrypts, in place, every object under `prefix` stored before encryption; objects already sealed are only opened
   * far enough to see so. Safe beside running replicas: a reader gets the old file or the new, and an object deleted
   * meanwhile stays deleted (but for the instant replace() cannot guard; the orphan sweep removes such a file).
   */
  async sealStoredBefore(prefix: string): Promise<{ sealed: number; alreadySealed: number }> {
    const counts = { sealed: 0, alreadySealed: 0 };
    for await (const entry of this.inner.list(prefix)) {
      if (entry.kind !== 'object') continue;
      try {
        // Read once, from one open file: checked and then sealed from the same bytes, so two passes at once never
        // seal twice what one of them has sealed in between.
        const chunks = (await this.inner.get(entry.key))[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        const first = await chunks.next();
        if (!first.done && FileCipher.isSealed(first.value)) {
          await chunks.return?.();
          counts.alreadySealed++;
          continue;
        }
        await this.sealInto(Readable.from(rest(first, chunks)), (sealed) => this.inner.replace(entry.key, sealed)).finally(() => chunks.return?.());
        counts.sealed++;
      } catch (error) {
        if (!(error instanceof ObjectNotFoundError)) throw error;
      }
    }
    return counts;
  }

  private async sealInto(content: Readable, store: (sealed: Readable) => Promise<unknown>): Promise<{ size: number }> {
    const encryptor = this.cipher.encryptor();
    // Either side failing destroys the encryptor, which fails the other: the source's error is the one to report.
    const [sealing, storing] = await Promise.allSettled([pipeline(content, encryptor), store(encryptor)]);
    if (sealing.status === 'rejected') throw sealing.reason;
    if (storing.status === 'rejected') throw storing.reason;
    return { size: encryptor.plaintextBytes };
  }
}

async function* rest(first: IteratorResult<Buffer>, chunks: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  for (let next = first; !next.done; next = await chunks.next()) yield next.value;
}
