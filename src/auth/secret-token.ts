import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256-bit random secrets for emails and refresh tokens; only their sha256 is stored. */
export const newSecret = (): string => randomBytes(32).toString('base64url');

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
