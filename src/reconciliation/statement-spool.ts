import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const PREFIX = 'statement-';
/** A spool directory older than this was left by a process that died mid-import (an import never lasts a day). */
const STALE_MS = 24 * 3600 * 1000;

/** The multipart file part's stream (a Readable), failed by the caller when it passes the size limit. */
type Upload = AsyncIterable<Buffer> & {
  destroyed?: boolean;
  errored?: unknown;
  readableEnded?: boolean;
  on?(event: 'error', listener: (error: unknown) => void): unknown;
  off?(event: 'error', listener: (error: unknown) => void): unknown;
};

export type SpooledStatement = {
  sha256: string;
  size: number;
  read(): AsyncIterable<Buffer>;
  remove(): Promise<void>;
};

/**
 * Copies an uploaded statement into a private file (directory 0700, file 0600) under `dir`, hashing it on the way,
 * before the import opens its transaction: the transaction then reads at disk speed, so a slow or stalled client
 * holds no pooled connection and no hospital's import lock, and a file too large or already imported is refused
 * before any database work. The caller removes it (remove()) whatever the outcome.
 */
export async function spoolStatement(upload: Upload, dir: string): Promise<SpooledStatement> {
  // A body cut short before its closing delimiter: busboy emits 'error' on the part's stream and the multipart plugin
  // destroys it, often before this code sees the part. A pipeline from a stream destroyed that way waited forever, and
  // the request never got an answer. Checked from the start, and again once the pipeline would start.
  let early: unknown = closedEarly(upload);
  const onEarlyError = (error: unknown) => (early ??= error);
  upload.on?.('error', onEarlyError);
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
    early ??= closedEarly(upload);
    if (early) throw early;
    await pipeline(upload, counted, createWriteStream(path, { mode: 0o600 }));
  } catch (error) {
    await rm(own, { recursive: true, force: true });
    throw error;
  } finally {
    upload.off?.('error', onEarlyError);
  }
  return {
    sha256: hash.digest('hex'),
    size,
    read: () => createReadStream(path, { highWaterMark: 256 * 1024 }),
    remove: () => rm(own, { recursive: true, force: true }),
  };
}

/**
 * When the upload's stream was destroyed before its end: the error it was failed with (past the size limit), or one
 * saying the multipart body was cut short (the plugin destroys the stream without an error). Else undefined.
 */
function closedEarly(upload: Upload): unknown {
  if (upload.destroyed !== true || upload.readableEnded === true) return undefined;
  return upload.errored ?? Object.assign(new Error('the upload ended before its multipart body did'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
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
