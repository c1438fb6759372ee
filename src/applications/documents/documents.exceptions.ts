import { ProblemException } from 'src/common/problem/problem.exception';

const KiB = 1024;
const MiB = 1024 * KiB;

/** 10 MiB, 1.5 MiB, 292.9 KiB, 1000 bytes: never "0 MiB", and rounded down, so a limit is never overstated. */
function sizeInWords(bytes: number): string {
  const [unit, size] = bytes >= MiB ? ['MiB', MiB] : bytes >= KiB ? ['KiB', KiB] : ['bytes', 1];
  return `${Math.floor((bytes * 10) / size) / 10} ${unit}`;
}

export class DocumentNotFoundException extends ProblemException {
  constructor() {
    super(404, 'document-not-found', 'Not found', 'Document was not found.');
  }
}

export class FileTooLargeException extends ProblemException {
  constructor(maxBytes: number) {
    super(413, 'file-too-large', 'File too large', `A document may be at most ${maxBytes} bytes (${sizeInWords(maxBytes)}).`, { maxBytes });
  }
}

export class UnsupportedFileTypeException extends ProblemException {
  constructor() {
    super(415, 'unsupported-file-type', 'Unsupported file type', 'Documents must be PDF, JPEG or PNG files (judged by their content, not their name).');
  }
}

export class NotMultipartException extends ProblemException {
  constructor() {
    super(415, 'multipart-required', 'Unsupported media type', 'Send the document as multipart/form-data with the fields "type" and "file".');
  }
}

export class DocumentsTooLargeException extends ProblemException {
  constructor(maxTotalBytes: number) {
    super(
      409,
      'documents-too-large',
      'Conflict',
      `An application's documents not yet submitted to reviewers may take at most ${sizeInWords(maxTotalBytes)} in all; remove one of them (or send a smaller scan) first.`,
      { maxTotalBytes },
    );
  }
}

export class TooManyDocumentsException extends ProblemException {
  constructor(max: number) {
    super(409, 'too-many-documents', 'Conflict', `An application may hold at most ${max} documents not yet submitted to reviewers; remove one of them first.`);
  }
}
