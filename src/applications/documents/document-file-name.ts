import { DetectedFileType, sanitizeFileName } from 'src/applications/documents/file-type';

const EXTENSIONS: Record<DetectedFileType, string[]> = {
  'application/pdf': ['.pdf'],
  'image/jpeg': ['.jpg', '.jpeg'],
  'image/png': ['.png'],
};

/**
 * The sanitized client name, with the extension of the detected type appended when the name claims another
 * ("scan.exe" holding a PNG is kept as "scan.exe.png"), so a downloaded file opens as what it really is.
 */
export function documentFileName(clientName: string | undefined, type: DetectedFileType): string {
  const name = sanitizeFileName(clientName ?? '');
  const extensions = EXTENSIONS[type];
  return extensions.some((ext) => name.toLowerCase().endsWith(ext)) ? name : `${name}${extensions[0]}`;
}

const RFC5987_EXTRA = /['()*]/g;

/** `attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 8187); nothing can break out of the header. */
export function attachmentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(RFC5987_EXTRA, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
