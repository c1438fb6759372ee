import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { FileCipher } from 'src/common/crypto/file-cipher';
import { filesUnder } from 'test/support/files-under';
import { EncryptedStorage } from 'src/storage/encrypted.storage';
import { LocalDiskStorage } from 'src/storage/local-disk.storage';
import { ObjectNotFoundError } from 'src/storage/object-storage';

describe('EncryptedStorage', () => {
  let root: string;
  let storage: EncryptedStorage;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sprout-sealed-'));
    storage = new EncryptedStorage(new LocalDiskStorage(root), new FileCipher(Buffer.alloc(32, 3)));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stores sealed bytes, reports and serves the plaintext', async () => {
    const content = Buffer.from('%PDF-1.4 王小明');
    expect(await storage.put('documents/ab/k', Readable.from([content]))).toEqual({ size: content.length });
    expect(FileCipher.isSealed(readFileSync(join(root, 'documents/ab/k')))).toBe(true);
    expect((await buffer(await storage.get('documents/ab/k'))).equals(content)).toBe(true);
    await expect(storage.get('documents/ab/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it("fails with the source's own error and keeps nothing when the upload fails midway", async () => {
    async function* failing() {
      yield Buffer.alloc(200_000, 1);
      throw new Error('client went away');
    }
    await expect(storage.put('k', Readable.from(failing()))).rejects.toThrow('client went away');
    expect(filesUnder(root)).toEqual([]);
  });

  it('fails, keeping nothing, when the store underneath fails', async () => {
    await storage.put('k', Readable.from([Buffer.from('first')]));
    await expect(storage.put('k', Readable.from([Buffer.alloc(300_000)]))).rejects.toThrow('already exists');
    expect(filesUnder(root)).toEqual(['k']);
  });

  it('replaces only an object that is there: one deleted meanwhile stays deleted', async () => {
    await expect(storage.replace('gone', Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(filesUnder(root)).toEqual([]);
  });

  it('with sealedOnly, refuses to serve a file that is not sealed', async () => {
    writeFileSync(join(root, 'swapped'), '%PDF-1.7 put there by hand');
    const strict = new EncryptedStorage(new LocalDiskStorage(root), new FileCipher(Buffer.alloc(32, 3)), true);
    await expect(buffer(await strict.get('swapped'))).rejects.toThrow('not encrypted');
    await strict.put('sealed', Readable.from([Buffer.from('scan')]));
    expect((await buffer(await strict.get('sealed'))).toString()).toBe('scan');
  });

  it('seals in place what was stored before encryption, skipping unfinished uploads and what is sealed already', async () => {
    await storage.put('documents/ab/new', Readable.from([Buffer.from('new')]));
    writeFileSync(join(root, 'documents/ab/old'), 'old scan');
    writeFileSync(join(root, 'documents/ab/tiny'), 'SP');
    writeFileSync(join(root, 'documents/ab/old.0f8fad5b-d9cb-469f-a165-70867728950e.part'), 'half an upload');
    expect(await storage.sealStoredBefore('documents/')).toEqual({ sealed: 2, alreadySealed: 1 });
    for (const [key, text] of [['documents/ab/new', 'new'], ['documents/ab/old', 'old scan'], ['documents/ab/tiny', 'SP']]) {
      expect(FileCipher.isSealed(readFileSync(join(root, key)))).toBe(true);
      expect((await buffer(await storage.get(key))).toString()).toBe(text);
    }
    expect(readFileSync(join(root, 'documents/ab/old.0f8fad5b-d9cb-469f-a165-70867728950e.part'), 'utf8')).toBe('half an upload');
  });
});
