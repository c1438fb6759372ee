import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { LocalDiskStorage } from 'src/storage/local-disk.storage';
import { ObjectNotFoundError, StoredEntry } from 'src/storage/object-storage';

const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';

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

  describe('listing', () => {
    /** A file written as put() would leave it, last written at `modifiedAt`. */
    function plant(path: string, modifiedAt = new Date()): void {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), 'x');
      utimesSync(join(root, path), modifiedAt, modifiedAt);
    }
    const listAll = async (prefix: string) => {
      const entries: StoredEntry[] = [];
      for await (const entry of storage.list(prefix)) entries.push(entry);
      return entries.sort((a, b) => (a.kind === 'object' ? a.key : a.upload).localeCompare(b.kind === 'object' ? b.key : b.upload));
    };

    it('lists the objects under a prefix with when each was written, and flags what unfinished uploads left', async () => {
      const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
      const lastHour = new Date(Date.now() - 3_600_000);
      await storage.put('documents/ab/abc-1', Readable.from([Buffer.from('scan')]));
      plant('documents/cd/cde-2', twoDaysAgo);
      plant(`documents/cd/cde-3.${UUID}.part`, lastHour);
      plant('statements/s-1');

      const entries = await listAll('documents/');
      expect(entries.map((e) => ({ ...e, modifiedAt: e.modifiedAt.getTime() }))).toEqual([
        { kind: 'object', key: 'documents/ab/abc-1', modifiedAt: statSync(join(root, 'documents/ab/abc-1')).mtime.getTime() },
        { kind: 'object', key: 'documents/cd/cde-2', modifiedAt: twoDaysAgo.getTime() },
        { kind: 'unfinished', upload: `documents/cd/cde-3.${UUID}.part`, modifiedAt: lastHour.getTime() },
      ]);
      expect((await listAll('')).length).toBe(4);
      expect(await listAll('documents/ab/')).toEqual([expect.objectContaining({ key: 'documents/ab/abc-1' })]);
    });

    it('lists nothing it did not write: other names, hidden files, symbolic links, and files outside the root', async () => {
      const outside = mkdtempSync(join(tmpdir(), 'sprout-outside-'));
      try {
        writeFileSync(join(outside, 'secret'), 'x');
        mkdirSync(join(outside, 'dir'));
        writeFileSync(join(outside, 'dir', 'abc'), 'x');
        plant('documents/ab/.hidden');
        plant('documents/ab/Upper');
        plant('documents/ab/abc.part');
        plant(`documents/ab/ABC.${UUID}.part`);
        plant('documents/.trash/abc');
        symlinkSync(join(outside, 'secret'), join(root, 'documents/ab/linked'));
        symlinkSync(join(outside, 'dir'), join(root, 'documents/linked-dir'));
        expect(await listAll('documents/')).toEqual([]);
      } finally {
        rmSync(outside, { recursive: true, force: true });
      }
    });

    it('lists nothing under a prefix nothing was stored under, and refuses a prefix that is not whole segments', async () => {
      expect(await listAll('documents/')).toEqual([]);
      for (const prefix of ['documents', '../', '/etc/', 'a//', '.hidden/', 'Documents/']) {
        await expect(listAll(prefix)).rejects.toThrow('Invalid storage prefix');
      }
    });

    it('reads as it goes: files removed once the listing began are not listed, and removing while listing is safe', async () => {
      for (let i = 0; i < 100; i++) plant(`documents/ab/f-${i}`);
      const seen: string[] = [];
      for await (const entry of storage.list('documents/')) {
        if (entry.kind !== 'object') continue;
        seen.push(entry.key);
        if (seen.length === 1) for (let i = 0; i < 100; i++) await storage.delete(`documents/ab/f-${i}`);
      }
      expect(seen.length).toBe(1);

      for (let i = 0; i < 100; i++) plant(`documents/cd/g-${i}`);
      const removed = new Set<string>();
      for await (const entry of storage.list('documents/')) {
        if (entry.kind === 'object') await storage.delete(entry.key);
        removed.add(entry.kind === 'object' ? entry.key : entry.upload);
      }
      expect(removed.size).toBe(100);
      expect(readdirSync(join(root, 'documents/cd'))).toEqual([]);
    });

    it('removes what an unfinished upload left, and nothing that is not such a file', async () => {
      plant(`documents/ab/abc.${UUID}.part`);
      plant('documents/ab/abc');
      await storage.deleteUnfinished(`documents/ab/abc.${UUID}.part`);
      await storage.deleteUnfinished(`documents/ab/abc.${UUID}.part`);
      expect(readdirSync(join(root, 'documents/ab'))).toEqual(['abc']);
      for (const upload of ['documents/ab/abc', `../abc.${UUID}.part`, `documents/../../abc.${UUID}.part`, `/tmp/abc.${UUID}.part`, `documents/ab/abc.${UUID}.part/x`]) {
        await expect(storage.deleteUnfinished(upload)).rejects.toThrow(/Invalid/);
      }
      expect(readdirSync(join(root, 'documents/ab'))).toEqual(['abc']);
    });
  });
});
