import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { FILE_CHUNK_BYTES, FileCipher } from 'src/common/crypto/file-cipher';

const cipher = new FileCipher(Buffer.alloc(32, 7));

/** Feeds `bytes` in pieces of `piece` bytes, as a network upload or a file read arrives. */
function source(bytes: Buffer, piece = 1000): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += piece) pieces.push(bytes.subarray(at, at + piece));
  return Readable.from(pieces);
}

async function seal(plain: Buffer, piece?: number): Promise<Buffer> {
  const encryptor = cipher.encryptor();
  const [sealed] = await Promise.all([buffer(encryptor), pipeline(source(plain, piece), encryptor)]);
  expect(encryptor.plaintextBytes).toBe(plain.length);
  return sealed;
}

async function open(stored: Buffer, piece?: number, by = cipher): Promise<Buffer> {
  const decryptor = by.decryptor();
  const [plain] = await Promise.all([buffer(decryptor), pipeline(source(stored, piece), decryptor)]);
  return plain;
}

describe('FileCipher', () => {
  it.each([0, 1, 4, 5, 16, FILE_CHUNK_BYTES - 1, FILE_CHUNK_BYTES, FILE_CHUNK_BYTES + 1, 3 * FILE_CHUNK_BYTES, 3 * FILE_CHUNK_BYTES + 17])(
    'seals and opens %i bytes, whatever the pieces they arrive in',
    async (size) => {
      const plain = randomBytes(size);
      for (const piece of [1 + (size % 7), 4096, 70_000]) {
        const sealed = await seal(plain, piece);
        expect(FileCipher.isSealed(sealed)).toBe(true);
        expect((await open(sealed, 3 + (size % 5))).equals(plain)).toBe(true);
        expect((await open(sealed, 100_000)).equals(plain)).toBe(true);
      }
    },
  );

  it('shows nothing of the plaintext and seals the same file differently each time', async () => {
    const plain = Buffer.from('%PDF-1.4 身份证 110101201001011234 aplastic anaemia '.repeat(50));
    const [first, second] = [await seal(plain), await seal(plain)];
    expect(first.includes(Buffer.from('110101201001011234'))).toBe(false);
    expect(first.includes(Buffer.from('%PDF'))).toBe(false);
    expect(first.equals(second)).toBe(false);
    expect(first.length).toBe(plain.length + 16 + 16);
  });

  it('refuses a file altered anywhere, without releasing the altered chunk', async () => {
    const plain = randomBytes(2 * FILE_CHUNK_BYTES + 100);
    const sealed = await seal(plain);
    for (const at of [6, 12, 16, 17, FILE_CHUNK_BYTES, FILE_CHUNK_BYTES + 40, sealed.length - 1]) {
      const altered = Buffer.from(sealed);
      altered[at] ^= 0x01;
      await expect(open(altered)).rejects.toThrow(/failed authentication|another key/);
    }
    const decryptor = cipher.decryptor();
    const altered = Buffer.from(sealed);
    altered[sealed.length - 5] ^= 0x01;
    const released: Buffer[] = [];
    decryptor.on('data', (chunk: Buffer) => released.push(chunk));
    await expect(pipeline(source(altered), decryptor)).rejects.toThrow(/failed authentication/);
    // The two whole chunks before the altered last one are released; not one byte of the last.
    expect(Buffer.concat(released).equals(plain.subarray(0, 2 * FILE_CHUNK_BYTES))).toBe(true);
  });

  it('refuses a file cut short, extended, or with its chunks reordered', async () => {
    const plain = randomBytes(3 * FILE_CHUNK_BYTES);
    const sealed = await seal(plain);
    const chunk = FILE_CHUNK_BYTES + 16;
    const header = sealed.subarray(0, 16);
    const chunks = [0, 1, 2].map((n) => sealed.subarray(16 + n * chunk, 16 + (n + 1) * chunk));
    const cases = {
      'cut at a chunk boundary': Buffer.concat([header, chunks[0], chunks[1]]),
      'cut inside a chunk': sealed.subarray(0, sealed.length - 100),
      'cut inside the header': sealed.subarray(0, 10),
      'extended': Buffer.concat([sealed, chunks[2]]),
      'reordered': Buffer.concat([header, chunks[1], chunks[0], chunks[2]]),
      'with another file\'s chunk': Buffer.concat([header, (await seal(plain)).subarray(16, 16 + chunk), chunks[1], chunks[2]]),
    };
    for (const [name, stored] of Object.entries(cases)) {
      await expect(open(stored).then(() => name)).rejects.toThrow(/failed authentication|cut short/);
    }
  });

  it('says so when a file was sealed under another key', async () => {
    const sealed = await seal(Buffer.from('scan'));
    await expect(open(sealed, undefined, new FileCipher(Buffer.alloc(32, 8)))).rejects.toThrow('encrypted under another key');
  });

  it('passes through, unchanged, a file stored before files were encrypted', async () => {
    for (const plain of [Buffer.from('%PDF-1.7 a scan'), Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(0), Buffer.from('SPR'), randomBytes(200_000)]) {
      expect(FileCipher.isSealed(plain)).toBe(false);
      expect((await open(plain, 1)).equals(plain)).toBe(true);
    }
  });

  it('refuses a file that is not sealed when every stored file should be', async () => {
    const strict = async (stored: Buffer) => {
      const decryptor = cipher.decryptor({ sealedOnly: true });
      const [plain] = await Promise.all([buffer(decryptor), pipeline(source(stored), decryptor)]);
      return plain;
    };
    for (const plain of [Buffer.from('%PDF-1.7 swapped in'), Buffer.alloc(0), Buffer.from('SP')]) {
      await expect(strict(plain)).rejects.toThrow('not encrypted');
    }
    expect((await strict(await seal(Buffer.from('scan')))).toString()).toBe('scan');
  });

  it('takes its key from DATA_ENCRYPTION_KEY', async () => {
    const fromEnv = FileCipher.fromEnv({ DATA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') });
    expect((await open(await seal(Buffer.from('scan')), undefined, fromEnv)).toString()).toBe('scan');
    expect(() => new FileCipher(Buffer.alloc(16))).toThrow('32 bytes');
  });
});
