import { InvalidInputException, ProblemException } from 'src/common/problem/problem.exception';

/** A second file in an upload that takes one (busboy's FST_FILES_LIMIT, "reach files limit", as a problem). */
export class TooManyFilesException extends ProblemException {
  constructor(what: string) {
    super(413, 'too-many-files', 'Too many files', `Only one file per upload: send each ${what} in a request of its own.`);
  }
}

/**
 * A field past an upload's limit: the caller lets busboy read one field more than it accepts (its own limit would
 * answer 413 "reach fields limit", naming nothing) and refuses that one by name.
 */
export class TooManyFieldsException extends InvalidInputException {
  constructor(maxFields: number, field: string, accepted: string) {
    super(
      [{ field, message: `is one field too many: an upload carries at most ${maxFields} fields besides its file` }],
      `An upload carries at most ${maxFields} fields besides its file, and only ${accepted} accepted.`,
    );
  }
}
