import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { FieldCipher } from 'src/common/crypto/field-cipher';

const newKey = () => randomBytes(32).toString('base64');
const encryptionKey = newKey();
const hashKey = newKey();
const cipher = new FieldCipher(encryptionKey, hashKey);

/** Flips one bit of the decoded part `partIndex` (1 = iv, 2 = tag, 3 = ciphertext) of a token. */
function flipBit(token: string, partIndex: number, byteIndex = 0): string {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[partIndex], 'base64url');
  bytes[byteIndex] ^= 0x01;
  parts[partIndex] = bytes.toString('base64url');
  return parts.join('.');
}

describe('FieldCipher', () => {
  describe('keys', () => {
    it.each([
      ['too short', randomBytes(16).toString('base64')],
      ['too long', randomBytes(33).toString('base64')],
      ['not base64', '!'.repeat(44)],
      ['empty', ''],
      ['hex instead of base64', randomBytes(32).toString('hex')],
    ])('refuses an encryption key that is %s', (_name, key) => {
      expect(() => new FieldCipher(key, hashKey)).toThrow(/encryption key must be 32 bytes/);
    });

    it('refuses a bad hash key', () => {
      expect(() => new FieldCipher(encryptionKey, randomBytes(31).toString('base64'))).toThrow(/hash key must be 32 bytes/);
    });

    it('refuses the same key for both jobs', () => {
      expect(() => new FieldCipher(encryptionKey, encryptionKey)).toThrow(/must differ/);
    });

    it('tolerates a trailing newline, as in a key file', () => {
      expect(() => new FieldCipher(`${encryptionKey}\n`, hashKey)).not.toThrow();
    });
  });

  describe('encrypt and decrypt', () => {
    it('round-trips a national id', () => {
      const token = cipher.encrypt('11010519491231002X');
      expect(token).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
      expect(token).not.toContain('11010519491231002X');
      expect(cipher.decrypt(token)).toBe('11010519491231002X');
    });

    it('round-trips any text, including CJK, emoji and the empty string', () => {
      fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (plain) => expect(cipher.decrypt(cipher.encrypt(plain))).toBe(plain)));
      expect(cipher.decrypt(cipher.encrypt(''))).toBe('');
      expect(cipher.decrypt(cipher.encrypt('王小明 👶'))).toBe('王小明 👶');
    });

    it('uses a fresh IV each time, so equal plaintexts give different tokens', () => {
      const tokens = Array.from({ length: 50 }, () => cipher.encrypt('310101201905010015'));
      expect(new Set(tokens).size).toBe(50);
      expect(new Set(tokens.map((token) => token.split('.')[1])).size).toBe(50);
    });

    it.each([
      ['the IV', 1],
      ['the tag', 2],
      ['the ciphertext', 3],
    ])('detects a flipped bit in %s', (_name, partIndex) => {
      const token = cipher.encrypt('310101201905010015');
      expect(() => cipher.decrypt(flipBit(token, partIndex))).toThrow();
    });

    it('detects a flipped bit in the last ciphertext byte', () => {
      const token = cipher.encrypt('310101201905010015');
      expect(() => cipher.decrypt(flipBit(token, 3, 17))).toThrow(/failed authentication/);
    });

    it('refuses a token encrypted under another key', () => {
      const other = new FieldCipher(newKey(), hashKey);
      expect(() => cipher.decrypt(other.encrypt('secret'))).toThrow(/failed authentication/);
    });

    it.each([
      ['an empty string', ''],
      ['another version', 'v2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA'],
      ['too few parts', 'v1.AAAAAAAAAAAAAAAA.AAAA'],
      ['too many parts', 'v1.a.b.c.d'],
      ['a short IV', 'v1.AAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA'],
      ['a short tag', 'v1.AAAAAAAAAAAAAAAA.AAAA.AAAA'],
      ['characters outside base64url', 'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AA+/'],
      ['plaintext', '310101201905010015'],
    ])('refuses %s', (_name, token) => {
      expect(() => cipher.decrypt(token)).toThrow();
    });
  });

  describe('keyedHash', () => {
    it('is an HMAC-SHA256 in hex, stable for one key', () => {
      const hash = cipher.keyedHash('310101201905010015');
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(cipher.keyedHash('310101201905010015')).toBe(hash);
      expect(new FieldCipher(encryptionKey, hashKey).keyedHash('310101201905010015')).toBe(hash);
    });

    it('matches an HMAC-SHA256 computed independently (Python hmac module)', () => {
      const key = Buffer.alloc(32, 0x0b);
      const known = new FieldCipher(Buffer.alloc(32, 0x01).toString('base64'), key.toString('base64'));
      // HMAC-SHA256 with 32 bytes of 0x0b over "Hi There".
      expect(known.keyedHash('Hi There')).toBe('198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7');
    });

    it('depends on the key', () => {
      const otherKey = new FieldCipher(encryptionKey, newKey());
      expect(otherKey.keyedHash('310101201905010015')).not.toBe(cipher.keyedHash('310101201905010015'));
    });

    it('tells different values apart', () => {
      expect(cipher.keyedHash('310101201905010015')).not.toBe(cipher.keyedHash('310101201905010023'));
    });
  });
});
