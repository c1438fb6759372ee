import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { EmptyUploadError, inspectUpload, INSPECTED_HEAD_BYTES, UnsupportedUploadError } from 'src/applications/documents/upload-inspector';

/** A stream in small chunks, recording how much of it was read. */
function chunked(content: Buffer, size = 1000) {
  const state = { read: 0 };
  async function* chunks() {
    for (let at = 0; at < content.length; at += size) {
      const chunk = content.subarray(at, at + size);
      state.read += chunk.length;
      yield chunk;
    }
  }
  return { stream: Readable.from(chunks()), iterable: chunks(), state };
}

const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), Buffer.alloc(20_000, 0x41)]);

describe('inspectUpload', () => {
  it('passes a PDF through whole, with its size and sha256', async () => {
    const inspected = await inspectUpload(chunked(pdf).stream);
    expect(inspected.contentType).toBe('application/pdf');
    const out = await buffer(inspected.content);
    expect(out.equals(pdf)).toBe(true);
    expect(inspected.digest()).toEqual({ size: pdf.length, sha256: createHash('sha256').update(pdf).digest('hex') });
  });

  it('reads no more than the head before deciding', async () => {
    const { iterable, state } = chunked(pdf);
    await inspectUpload(iterable);
    expect(state.read).toBeLessThanOrEqual(INSPECTED_HEAD_BYTES + 1000);
  });

  it('refuses an empty file', async () => {
    await expect(inspectUpload(Readable.from([]))).rejects.toBeInstanceOf(EmptyUploadError);
  });

  it('refuses an executable renamed and drains it to the end', async () => {
    const exe = Buffer.concat([Buffer.from('MZ', 'latin1'), Buffer.alloc(50_000)]);
    const { iterable, state } = chunked(exe);
    await expect(inspectUpload(iterable)).rejects.toBeInstanceOf(UnsupportedUploadError);
    expect(state.read).toBe(exe.length);
  });

  it('refuses a PDF that is also HTML', async () => {
    const polyglot = Buffer.from('%PDF-1.4\n<html><script>alert(1)</script></html>', 'latin1');
    await expect(inspectUpload(Readable.from([polyglot]))).rejects.toBeInstanceOf(UnsupportedUploadError);
  });

  it('accepts a file smaller than the head', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const inspected = await inspectUpload(Readable.from([png]));
    expect(inspected.contentType).toBe('image/png');
    expect((await buffer(inspected.content)).equals(png)).toBe(true);
    expect(inspected.digest().size).toBe(png.length);
  });
});
