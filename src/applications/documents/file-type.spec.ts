import { randomBytes } from 'node:crypto';
import { detectFileType, looksLikePolyglot, sanitizeFileName } from 'src/applications/documents/file-type';

const PDF = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n', 'latin1');
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0', 'latin1')]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);

/** A stand-in for compressed image data that contains none of the markers by construction. */
const filler = (length: number) => Buffer.alloc(length, 0xaa);

describe('detectFileType', () => {
  it.each([
    ['application/pdf', PDF],
    ['image/jpeg', JPEG],
    ['image/png', PNG],
  ])('recognises %s by its magic bytes', (type, head) => {
    expect(detectFileType(head)).toBe(type);
  });

  it.each([
    ['an empty buffer', Buffer.alloc(0)],
    ['a truncated PNG signature', PNG.subarray(0, 7)],
    ['a PNG signature with a damaged byte', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x00])],
    ['"%PDF" without the dash', Buffer.from('%PDF1.7', 'latin1')],
    ['a PDF signature after a leading byte', Buffer.concat([Buffer.from(' '), PDF])],
    ['HTML', Buffer.from('<!DOCTYPE html><html></html>')],
    ['a GIF', Buffer.from('GIF89a', 'latin1')],
    ['a ZIP (docx)', Buffer.from([0x50, 0x4b, 0x03, 0x04])],
    ['a Windows program', Buffer.from('MZ\x90\x00', 'latin1')],
  ])('refuses %s', (_name, head) => {
    expect(detectFileType(head)).toBeNull();
  });
});

describe('looksLikePolyglot', () => {
  it.each([
    ['a PDF', PDF],
    ['a JPEG', Buffer.concat([JPEG, filler(4000)])],
    ['a PNG', Buffer.concat([PNG, filler(4000)])],
    ['a short buffer', Buffer.from([0xff])],
    ['"MZ" inside image data without a PE header', Buffer.concat([JPEG, Buffer.from('MZ', 'latin1'), filler(200)])],
  ])('lets %s through', (_name, head) => {
    expect(looksLikePolyglot(head)).toBe(false);
  });

  it.each(['<html>', '<SCRIPT>alert(1)</SCRIPT>', '<!DocType HTML>', '<svg onload=x>', '<?php system($_GET[0]); ?>'])(
    'refuses an image that also carries %s',
    (marker) => {
      expect(looksLikePolyglot(Buffer.concat([JPEG, filler(100), Buffer.from(marker, 'latin1')]))).toBe(true);
    },
  );

  it('refuses a PDF with an HTML page in its first 4 KiB', () => {
    expect(looksLikePolyglot(Buffer.concat([PDF, Buffer.from('%<html><body>hi</body></html>')]))).toBe(true);
  });

  it('only scans the first 4 KiB', () => {
    const late = Buffer.concat([PNG, filler(4096), Buffer.from('<script>')]);
    expect(looksLikePolyglot(late)).toBe(false);
    const justInside = Buffer.concat([PNG, filler(4096 - PNG.length - 8), Buffer.from('<script>')]);
    expect(justInside.length).toBe(4096);
    expect(looksLikePolyglot(justInside)).toBe(true);
  });

  it('refuses an ELF header anywhere in the scan window', () => {
    expect(looksLikePolyglot(Buffer.from('\x7fELF\x02\x01\x01', 'latin1'))).toBe(true);
    expect(looksLikePolyglot(Buffer.concat([JPEG, filler(50), Buffer.from('\x7fELF', 'latin1')]))).toBe(true);
  });

  it('refuses a Windows program at the start', () => {
    expect(looksLikePolyglot(Buffer.from('MZ\x90\x00\x03', 'latin1'))).toBe(true);
  });

  it('refuses a Windows program embedded after the image header', () => {
    const dosHeader = Buffer.alloc(0x80);
    dosHeader.write('MZ', 0, 'latin1');
    dosHeader.writeUInt32LE(0x80, 0x3c);
    const program = Buffer.concat([dosHeader, Buffer.from('PE\0\0', 'latin1'), filler(32)]);
    expect(looksLikePolyglot(Buffer.concat([PNG, filler(64), program]))).toBe(true);
  });

  it('refuses the DOS stub message whatever its case', () => {
    expect(looksLikePolyglot(Buffer.concat([JPEG, Buffer.from('This program cannot be run in DOS mode.')]))).toBe(true);
  });

  it('rarely flags random binary data', () => {
    const flagged = Array.from({ length: 200 }, () => Buffer.concat([JPEG, randomBytes(4090)])).filter(looksLikePolyglot);
    expect(flagged.length).toBeLessThanOrEqual(2);
  });
});

describe('sanitizeFileName', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['a\u0000.pdf', 'a.pdf'],
    ['C:\\x\\evil.exe', 'evil.exe'],
    ['病历.pdf', '病历.pdf'],
    ['王小明 骨髓检查报告 2026.jpg', '王小明 骨髓检查报告 2026.jpg'],
    ['/var/www/../uploads/scan.png', 'scan.png'],
    ['..\\..\\windows\\system32\\cmd.exe', 'cmd.exe'],
    ['.htaccess', 'htaccess'],
    ['...pdf', 'pdf'],
    ['report..pdf', 'report.pdf'],
    ['a<b>c:d"e|f?g*h.pdf', 'abcdefgh.pdf'],
    ['  many \t\n  spaces   here .pdf  ', 'many spaces here .pdf'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['zero\u200Bwidth.png', 'zerowidth.png'],
    ['bell\u0007\u001b[31m.png', 'bell[31m.png'],
    ['trailing dots...', 'trailing dots'],
    ['Lebenslauf-Müller.pdf', 'Lebenslauf-Müller.pdf'],
    ['e\u0301t\u00e9.pdf', '\u00e9t\u00e9.pdf'],
  ])('turns %j into %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });

  it.each(['', '   ', '..', '/', 'C:\\temp\\', '\u0000\u0001', '<>:"|?*'])('falls back to "document" for %j', (input) => {
    expect(sanitizeFileName(input)).toBe('document');
  });

  it('limits long names to 150 characters and keeps the extension', () => {
    const result = sanitizeFileName(`${'a'.repeat(300)}.pdf`);
    expect(result).toHaveLength(150);
    expect(result).toBe(`${'a'.repeat(146)}.pdf`);
  });

  it('counts CJK and astral characters as one each and never splits a surrogate pair', () => {
    const result = sanitizeFileName(`${'病'.repeat(100)}${'😀'.repeat(100)}.jpeg`);
    expect(Array.from(result)).toHaveLength(150);
    expect(result.endsWith('😀.jpeg')).toBe(true);
    expect(result).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it('cuts a long name without an extension at 150 characters', () => {
    expect(sanitizeFileName('x'.repeat(151))).toBe('x'.repeat(150));
  });

  it('keeps its output stable when applied twice', () => {
    for (const name of ['../../etc/passwd', ' ..\\a..b?.pdf ', `${'长'.repeat(200)}.png`]) {
      const once = sanitizeFileName(name);
      expect(sanitizeFileName(once)).toBe(once);
    }
  });
});
