import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { removeStaleSpools, spoolStatement } from 'src/reconciliation/statement-spool';

describe('spoolStatement', () => {
  let dir: string;
  beforeEach(() => (dir = join(mkdtempSync(join(tmpdir(), 'spool-spec-')), 'spool')));
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  const upload = (chunks: Buffer[]) => Readable.from(chunks);
  const readAll = async (source: AsyncIterable<Buffer>) => {
    const parts: Buffer[] = [];
    for await (const chunk of source) parts.push(chunk);
    return Buffer.concat(parts);
  };

  it('refuses at once an upload whose stream was destroyed before its end (a multipart body cut short), keeping nothing', async () => {
    const cut = new Readable({ read() {} });
    cut.push(Buffer.from('%PDF-1.4 and then nothing'));
    cut.destroy(); // as the multipart plugin does when busboy finds the body cut short: no error on the stream
    await expect(spoolStatement(cut, dir)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(readdirSync(dir)).toEqual([]);
    // Destroyed while the spool directory is made, after the call.
    const later = new Readable({ read() {} });
    const spooling = spoolStatement(later, dir);
    later.destroy();
    await expect(spooling).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('refuses with its own error an upload failed before it was handed over (past the size limit), keeping nothing', async () => {
    const failed = new Readable({ read() {} }).on('error', () => undefined);
    failed.destroy(new Error('too large'));
    await expect(spoolStatement(failed, dir)).rejects.toThrow('too large');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps a private copy with its hash and size, read back byte for byte, and removes it', async () => {
    const chunks = [Buffer.from('<Document>'), Buffer.from('中文 ✓'.repeat(50_000)), Buffer.from('</Document>')];
    const whole = Buffer.concat(chunks);
    const spooled = await spoolStatement(upload(chunks), dir);
    expect(spooled).toMatchObject({ sha256: createHash('sha256').update(whole).digest('hex'), size: whole.length });
    expect((await readAll(spooled.read())).equals(whole)).toBe(true);

    const [own] = readdirSync(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, own)).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, own, 'upload')).mode & 0o777).toBe(0o600);
    await spooled.remove();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves nothing behind when the upload fails midway', async () => {
    async function* broken(): AsyncGenerator<Buffer> {
      yield Buffer.from('first part');
      throw new Error('client went away');
    }
    await expect(spoolStatement(broken(), dir)).rejects.toThrow('client went away');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('removeStaleSpools', () => {
  it('removes only spool directories older than a day', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-sweep-'));
    try {
      for (const name of ['statement-old', 'statement-new', 'other-old']) mkdirSync(join(dir, name));
      const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
      utimesSync(join(dir, 'statement-old'), twoDaysAgo, twoDaysAgo);
      utimesSync(join(dir, 'other-old'), twoDaysAgo, twoDaysAgo);
      expect(await removeStaleSpools(dir)).toBe(1);
      expect(readdirSync(dir).sort()).toEqual(['other-old', 'statement-new']);
      expect(await removeStaleSpools(join(dir, 'missing'))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
