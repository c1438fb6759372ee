import { FieldError, InvalidInputException } from 'src/common/problem/problem.exception';

/**
 * busboy's errors for a body that is not the multipart it claims to be: no boundary in the Content-Type, or a body that
 * stops before its closing delimiter. They carry no status code, so they were 500s.
 */
const BUSBOY_MALFORMED = /^(Multipart: Boundary not found|Unexpected end of multipart data|\w+ terminated early due to unexpected end of multipart data)$/;

/** A 400 naming the problem for a malformed multipart body (a part's stream closed early included), else null. */
export function malformedMultipart(error: unknown): InvalidInputException | null {
  const e = error as { message?: unknown; code?: unknown; statusCode?: unknown };
  if (typeof e?.statusCode === 'number') return null;
  const malformed = (typeof e?.message === 'string' && BUSBOY_MALFORMED.test(e.message)) || e?.code === 'ERR_STREAM_PREMATURE_CLOSE';
  if (!malformed) return null;
  const errors: FieldError[] = [{ field: 'file', message: 'the multipart body is malformed (no boundary, or it ends before its closing delimiter)' }];
  return new InvalidInputException(errors);
}
