import { ProblemException } from 'src/common/problem/problem.exception';

export class DocumentNotFoundException extends ProblemException {
  constructor() {
    super(404, 'document-not-found', 'Not found', 'Document was not found.');
  }
}

export class FileTooLargeException extends ProblemException {
  constructor(maxBytes: number) {
    super(413, 'file-too-large', 'File too large', `A document may be at most ${maxBytes} bytes (${(maxBytes / 1048576).toFixed(0)} MiB).`, { maxBytes });
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
      `An application's documents may take at most ${maxTotalBytes >= 1048576 ? `${(maxTotalBytes / 1048576).toFixed(0)} MiB` : `${maxTotalBytes} bytes`} in all; remove one (or send a smaller scan) first.`,
      { maxTotalBytes },
    );
  }
}

export class TooManyDocumentsException extends ProblemException {
  constructor(max: number) {
    super(409, 'too-many-documents', 'Conflict', `An application holds at most ${max} documents.`);
  }
}
