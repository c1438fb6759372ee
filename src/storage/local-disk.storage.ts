import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, Dir } from 'node:fs';
import { lstat, mkdir, open, opendir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertStorageKey, assertStoragePrefix, isStorageKey, ObjectNotFoundError, ObjectStorage, StoredEntry } from 'src/storage/object-storage';

/** put()'s temporary file, `<key>.<uuid>.part`: renamed to `<key>` once whole, left behind by a crash mid-upload. */
const UNFINISHED = /^(.+)\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.part$/;

/**
 * Objects as files under one root directory (UPLOAD_DIR), which must lie outside anything served over HTTP.
 * Files are owner-only (0600) in owner-only directories (0700).
 */
export class LocalDiskStorage extends ObjectStorage {
  private readonly root: string;

  constructor(root: string) {
    super();
    this.root = resolve(root);
  }

  put(key: string, content: Readable): Promise<{ size: number }> {
    return this.write(key, content, false);
  }

  replace(key: string, content: Readable): Promise<{ size: number }> {
    return this.write(key, content, true);
  }

  private async write(key: string, content: Readable, replacing: boolean): Promise<{ size: number }> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const temporary = `${target}.${randomUUID()}.part`;
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(content, counter, createWriteStream(temporary, { flags: 'wx', mode: 0o600 }));
      // fsync before rename: after a crash the object is either whole or absent.
      const handle = await open(temporary, 'r');
      await handle.sync().finally(() => handle.close());
      // Checked last, next to the rename: one deleted while it was being rewritten is not brought back, but for a
      // delete between this check and the rename (the orphan sweep then removes the file, its row being gone).
      const existed = await exists(target);
      if (existed && !replacing) throw new Error(`An object already exists under ${key}`);
      if (!existed && replacing) throw new ObjectNotFoundError(key);
      await rename(temporary, target);
      return { size };
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    if (!(await exists(path))) throw new ObjectNotFoundError(key);
    return createReadStream(path);
  }

  async delete(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch(ignoreMissing);
  }

  async *list(prefix: string): AsyncIterable<StoredEntry> {
    assertStoragePrefix(prefix);
    yield* this.walk(prefix);
  }

  async deleteUnfinished(upload: string): Promise<void> {
    const key = UNFINISHED.exec(upload)?.[1];
    if (!key) throw new Error('Invalid unfinished upload');
    await unlink(this.pathOf(key) + upload.slice(key.length)).catch(ignoreMissing);
  }

  /** Depth first, one directory open per level (a key has at most eight segments); a Dir closes when its loop ends. */
  private async *walk(prefix: string): AsyncGenerator<StoredEntry> {
    let dir: Dir;
    try {
      dir = await opendir(join(this.root, prefix));
    } catch (error) {
      // Nothing stored under the prefix yet, or its directory went away since it was listed.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for await (const entry of dir) {
      const name = prefix + entry.name;
      if (entry.isDirectory()) {
        if (isStorageKey(name)) yield* this.walk(`${name}/`);
        continue;
      }
      // Only what put() writes: never a symbolic link, nor a file under a name Sprout does not give.
      const found = entry.isFile() ? recognise(name) : null;
      const modifiedAt = found && (await modifiedAtOf(join(this.root, name)));
      if (found && modifiedAt) yield { ...found, modifiedAt };
    }
  }

  private pathOf(key: string): string {
    assertStorageKey(key);
    const path = resolve(join(this.root, key));
    // Belt and braces: the key pattern already excludes "..", absolute paths and backslashes.
    if (!path.startsWith(this.root + sep)) throw new Error('Invalid storage key');
    return path;
  }
}

function recognise(name: string): { kind: 'object'; key: string } | { kind: 'unfinished'; upload: string } | null {
  if (isStorageKey(name)) return { kind: 'object', key: name };
  const key = UNFINISHED.exec(name)?.[1];
  return key && isStorageKey(key) ? { kind: 'unfinished', upload: name } : null;
}

/** Null when the file went away since its directory was read. */
async function modifiedAtOf(path: string): Promise<Date | null> {
  try {
    return (await lstat(path)).mtime;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
