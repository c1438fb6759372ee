import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DetectedFileType, detectFileType, looksLikePolyglot } from 'src/applications/documents/file-type';

/** Bytes examined before anything is stored: magic bytes and the polyglot scan look at this much. */
export const INSPECTED_HEAD_BYTES = 4096;

export class EmptyUploadError extends Error {
  constructor() {
    super('The file is empty');
  }
}

export class UnsupportedUploadError extends Error {
  constructor() {
    super('The file is not a PDF, JPEG or PNG');
  }
}

export type InspectedUpload = {
  contentType: DetectedFileType;
  /** The whole upload, head included; read it once. */
  content: Readable;
  /** Size and sha256 of what `content` delivered; call after it has been consumed. */
  digest(): { size: number; sha256: string };
};

/**
 * Reads the head of an upload and decides by content alone (never by name or declared type) whether it
 * may be stored. A refused upload is drained, so the client still receives the answer, and nothing of it
 * is written anywhere.
 */
export async function inspectUpload(source: AsyncIterable<Buffer>): Promise<InspectedUpload> {
  const iterator = source[Symbol.asyncIterator]();
  const headChunks: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < INSPECTED_HEAD_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    headChunks.push(next.value);
    headLength += next.value.length;
  }
  const head = Buffer.concat(headChunks);
  const drain = async () => {
    while (!ended) ended = (await iterator.next()).done === true;
  };
  if (head.length === 0) {
    await drain();
    throw new EmptyUploadError();
  }
  const contentType = detectFileType(head);
  if (!contentType || looksLikePolyglot(head)) {
    await drain();
    throw new UnsupportedUploadError();
  }

  const hash = createHash('sha256');
  let size = 0;
  async function* everything(): AsyncGenerator<Buffer> {
    hash.update(head);
    size += head.length;
    yield head;
    while (!ended) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      hash.update(next.value);
      size += next.value.length;
      yield next.value;
    }
  }
  let digest: { size: number; sha256: string } | undefined;
  return {
    contentType,
    content: Readable.from(everything()),
    digest: () => (digest ??= { size, sha256: hash.digest('hex') }),
  };
}
