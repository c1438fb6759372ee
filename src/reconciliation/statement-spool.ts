import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const PREFIX = 'statement-';
/** A spool directory older than this was left by a process that died mid-import (an import never lasts a day). */
const STALE_MS = 24 * 3600 * 1000;

export type SpooledStatement = {
  sha256: string;
  size: number;
  /** The upload stopped at the size limit (the multipart parser cut it). */
  truncated: boolean;
  read(): AsyncIterable<Buffer>;
  remove(): Promise<void>;
};

/**
 * Copies an uploaded statement into a private file (directory 0700, file 0600) under `dir`, hashing it on the way,
 * before the import opens its transaction: the transaction then reads at disk speed, so a slow or stalled client
 * holds no pooled connection and no hospital's import lock, and a file too large or already imported is refused
 * before any database work. The caller removes it (remove()) whatever the outcome.
 */
export async function spoolStatement(upload: AsyncIterable<Buffer> & { truncated?: boolean }, dir: string): Promise<SpooledStatement> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const own = await mkdtemp(join(dir, PREFIX));
  const path = join(own, 'upload');
  const hash = createHash('sha256');
  let size = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(upload, counted, createWriteStream(path, { mode: 0o600 }));
  } catch (error) {
    await rm(own, { recursive: true, force: true });
    throw error;
  }
  return {
    sha256: hash.digest('hex'),
    size,
    truncated: upload.truncated === true,
    read: () => createReadStream(path, { highWaterMark: 256 * 1024 }),
    remove: () => rm(own, { recursive: true, force: true }),
  };
}

/** Removes spool directories a crashed process left behind (they hold bank statement data). */
export async function removeStaleSpools(dir: string, now = Date.now()): Promise<number> {
  let removed = 0;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(PREFIX))) {
    const info = await stat(join(dir, name)).catch(() => null);
    if (info && now - info.mtimeMs > STALE_MS) {
      await rm(join(dir, name), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
