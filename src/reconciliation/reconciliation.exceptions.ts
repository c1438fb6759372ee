import { ConflictException, ProblemException, ResourceNotFoundException } from 'src/common/problem/problem.exception';
import { StatementParseError } from 'src/reconciliation/parsers/statement-entry';
import type { StatementLeftOut } from 'src/reconciliation/statement-account';

const LINE = /^line (\d+)/;
const ELEMENT = /^line \d+ \((.+)\)$|^(Stmt\[.+)$/;

/** 400 naming where the file is wrong: `line` always, `element` for camt.053 ("Stmt[1]/Ntry[3]/Amt"). */
export class MalformedStatementException extends ProblemException {
  constructor(error: StatementParseError) {
    const line = LINE.exec(error.location)?.[1];
    const elementMatch = ELEMENT.exec(error.location);
    const element = elementMatch?.[1] ?? elementMatch?.[2];
    super(400, 'malformed-statement', 'Malformed statement', `The statement could not be read at ${error.location}: ${error.reason.replace(/\.+$/, '')}. Nothing was imported.`, {
      errors: [{ field: 'file', message: error.message }],
      location: error.location,
      ...(line ? { line: Number(line) } : {}),
      ...(element ? { element } : {}),
    });
  }
}

export class StatementAlreadyImportedException extends ConflictException {
  /** `leftOut`: the statements of other accounts that the earlier import left out (none, or unknown: empty). */
  constructor(statementId: string, leftOut: StatementLeftOut[] = []) {
    const endings = leftOut.map((s) => s.accountEnding).join(', ');
    super(
      'statement-already-imported',
      'This file has already been imported for this hospital; nothing new was matched.' +
        (leftOut.length
          ? ` Its statements of accounts ending ${endings} were left out then, as not the hospital's: to import one of them now that its account is on record, upload that account's statement on its own.`
          : ''),
      { statementId, ...(leftOut.length ? { statementsLeftOut: leftOut } : {}) },
    );
  }
}

/** Another import of the hospital's statements holds its turn for longer than an upload should wait. */
export class StatementImportInProgressException extends ConflictException {
  constructor(retryAfterSeconds: number) {
    super('import-in-progress', "Another statement of this hospital is being imported; try again when it has finished. Nothing was imported.", {
      retryAfter: retryAfterSeconds,
    });
  }
}

export class StatementTooLargeException extends ProblemException {
  constructor(detail: string, extra: Record<string, number>) {
    super(413, 'statement-too-large', 'Statement too large', `${detail} Nothing was imported.`, extra);
  }
}

export class StatementMultipartRequiredException extends ProblemException {
  constructor() {
    super(415, 'multipart-required', 'Unsupported media type', 'Send the statement as multipart/form-data with the field "file" (and "hospitalId" before it, for fund finance).');
  }
}

export class StatementNotFoundException extends ResourceNotFoundException {
  constructor() {
    super('Statement');
  }
}

export class StatementEntryNotFoundException extends ResourceNotFoundException {
  constructor() {
    super('Statement entry');
  }
}

/** A manual match that can never be right: not a booked CNY credit, another amount, another hospital. */
export class EntryNotMatchableException extends ProblemException {
  constructor(slug: string, detail: string) {
    super(422, slug, 'Cannot match', detail);
  }
}

export class EntryMatchConflictException extends ConflictException {
  constructor(slug: string, detail: string) {
    super(slug, detail);
  }
}

/** Accounts shown by their last four characters (normalizedAccount's), as an error may show them. */
export class StatementAccountMismatchException extends ProblemException {
  constructor(accountEnding: string, onRecordEnding: string | null) {
    super(
      422,
      'statement-account-mismatch',
      'Statement of another account',
      `The statement is for the account ending ${accountEnding}, which is not this hospital's` +
        `${onRecordEnding ? ` (its account on record is ending ${onRecordEnding})` : ''}: check that the file and the hospital belong together. Nothing was imported.`,
      { errors: [{ field: 'file', message: "names an account that is not the hospital's" }] },
    );
  }
}

/** A file that is recognisably no bank statement (a PDF, a workbook, an image): 415, saying what it is. */
export class UnsupportedStatementFileException extends ProblemException {
  constructor(what: string) {
    super(415, 'unsupported-statement-format', 'Unsupported statement format', `This file is ${what}. Statements are camt.053 XML or CSV files. Nothing was imported.`, {
      errors: [{ field: 'file', message: `is ${what.split(':')[0]}, not a camt.053 or CSV statement` }],
    });
  }
}
