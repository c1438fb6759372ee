import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { LocalDiskStorage } from 'src/storage/local-disk.storage';
import { ObjectNotFoundError } from 'src/storage/object-storage';

describe('LocalDiskStorage', () => {
  let root: string;
  let storage: LocalDiskStorage;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sprout-storage-'));
    storage = new LocalDiskStorage(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stores, reads back and deletes an object, owner-only', async () => {
    const content = Buffer.from('%PDF-1.4 hello');
    expect(await storage.put('documents/ab/abc-1', Readable.from([content]))).toEqual({ size: content.length });
    expect((await buffer(await storage.get('documents/ab/abc-1'))).equals(content)).toBe(true);
    expect(statSync(join(root, 'documents/ab/abc-1')).mode & 0o777).toBe(0o600);
    await storage.delete('documents/ab/abc-1');
    await expect(storage.get('documents/ab/abc-1')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await storage.delete('documents/ab/abc-1');
  });

  it('refuses keys that could leave the root or hide files', async () => {
    for (const key of ['../x', 'a/../../x', '/etc/passwd', '.hidden', 'a//b', 'A', 'a\\b', 'a/b/', '']) {
      await expect(storage.put(key, Readable.from([Buffer.from('x')]))).rejects.toThrow('Invalid storage key');
    }
  });

  it('never overwrites and leaves no partial file when the source fails', async () => {
    await storage.put('k', Readable.from([Buffer.from('first')]));
    await expect(storage.put('k', Readable.from([Buffer.from('second')]))).rejects.toThrow();
    expect((await buffer(await storage.get('k'))).toString()).toBe('first');
    async function* failing() {
      yield Buffer.from('partial');
      throw new Error('client went away');
    }
    await expect(storage.put('other', Readable.from(failing()))).rejects.toThrow('client went away');
    expect(readdirSync(root).sort()).toEqual(['k']);
  });
});
