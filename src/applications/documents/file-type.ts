export type DetectedFileType = 'application/pdf' | 'image/jpeg' | 'image/png';

const SIGNATURES: ReadonlyArray<{ type: DetectedFileType; magic: Buffer }> = [
  { type: 'application/pdf', magic: Buffer.from('%PDF-', 'latin1') },
  { type: 'image/jpeg', magic: Buffer.from([0xff, 0xd8, 0xff]) },
  { type: 'image/png', magic: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
];

/** The type proven by the magic bytes at offset 0; null for anything else, whatever its name or declared type. */
export function detectFileType(head: Buffer): DetectedFileType | null {
  return SIGNATURES.find(({ magic }) => head.subarray(0, magic.length).equals(magic))?.type ?? null;
}

const SCAN_BYTES = 4096;
const ACTIVE_CONTENT_MARKERS = ['<html', '<script', '<!doctype html', '<svg', '<?php', 'this program cannot be run in dos mode'];
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const DOS_MAGIC = Buffer.from('MZ', 'latin1');
const PE_SIGNATURE = Buffer.from('PE\0\0', 'latin1');
const PE_HEADER_OFFSET_FIELD = 0x3c;

/**
 * Why: a file can start with valid PDF/JPEG/PNG magic and still be HTML, script or a program to
 * a browser that sniffs content, a PHP interpreter or an OS loader. Medical scans and letters never
 * hold such markers in their first 4 KiB, so refusing them costs nothing and closes stored XSS and
 * malware hand-off through the document store.
 */
export function looksLikePolyglot(head: Buffer): boolean {
  const window = head.subarray(0, SCAN_BYTES);
  const text = window.toString('latin1').toLowerCase();
  return (
    ACTIVE_CONTENT_MARKERS.some((marker) => text.includes(marker)) ||
    window.includes(ELF_MAGIC) ||
    window.subarray(0, DOS_MAGIC.length).equals(DOS_MAGIC) ||
    containsPortableExecutableHeader(window)
  );
}

/**
 * "MZ" alone turns up by chance in about one compressed image in sixteen, so away from offset 0
 * an executable is only recognised when its DOS header points at a real "PE\0\0" signature.
 */
function containsPortableExecutableHeader(window: Buffer): boolean {
  for (let at = window.indexOf(DOS_MAGIC); at !== -1; at = window.indexOf(DOS_MAGIC, at + 1)) {
    const fieldEnd = at + PE_HEADER_OFFSET_FIELD + 4;
    if (fieldEnd > window.length) return false;
    const peAt = at + window.readUInt32LE(at + PE_HEADER_OFFSET_FIELD);
    if (window.subarray(peAt, peAt + PE_SIGNATURE.length).equals(PE_SIGNATURE)) return true;
  }
  return false;
}

const MAX_FILE_NAME_LENGTH = 150;
const FALLBACK_FILE_NAME = 'document';
const DIRECTORY_SEPARATOR = /[/\\]/;
// Control characters other than whitespace, and the invisible bidi and zero-width marks that can
// make "invoice\u202Efdp.exe" display as "invoiceexe.pdf".
const CONTROL_OR_INVISIBLE = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/gu;
const RESERVED_CHARACTERS = /[<>:"|?*]/g;
const EXTENSION = /\.[\p{L}\p{N}]{1,10}$/u;

/** A display name safe for storage and Content-Disposition: no path, no control characters, at most 150 characters. */
export function sanitizeFileName(name: string): string {
  const baseName = name.normalize('NFC').split(DIRECTORY_SEPARATOR).pop() ?? '';
  const cleaned = baseName
    .replace(CONTROL_OR_INVISIBLE, '')
    .replace(RESERVED_CHARACTERS, '')
    .replace(/\s+/gu, ' ')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.\s]+|[.\s]+$/gu, '');
  return cleaned === '' ? FALLBACK_FILE_NAME : limitLength(cleaned);
}

/** Cuts the stem, never the extension, counting Unicode code points so no surrogate pair is split. */
function limitLength(name: string): string {
  const characters = Array.from(name);
  if (characters.length <= MAX_FILE_NAME_LENGTH) return name;
  const extension = EXTENSION.exec(name)?.[0] ?? '';
  const stemLength = MAX_FILE_NAME_LENGTH - Array.from(extension).length;
  const stem = characters.slice(0, stemLength).join('').replace(/[.\s]+$/u, '');
  return (stem || FALLBACK_FILE_NAME) + extension;
}
