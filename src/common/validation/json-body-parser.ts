import type { FastifyInstance } from 'fastify';

/** No request body of this API nests deeper than 4 levels (the means policy); 32 leaves room and stops stack bombs. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when objects/arrays in `text` nest deeper than `max`. One pass, no recursion, strings skipped. Runs before
 * JSON.parse, because everything after it (class-transformer, the ValidationPipe's proto stripping) recurses: a
 * 2,000-deep body (4 KB) overflowed the stack there and answered 500.
 */
export function nestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * No request body of this API holds a long array (the longest, a policy's minimum living standards, a few hundred
 * rows); validators that compare items are quadratic, so a 1 MB body of one array could hold a process for seconds.
 */
export const MAX_JSON_ARRAY_ITEMS = 10_000;

/** The path of the first array longer than `max`, or null. */
export function findLongArray(value: unknown, max = MAX_JSON_ARRAY_ITEMS, path = '$'): string | null {
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value) && value.length > max) return path;
  for (const [key, item] of Object.entries(value)) {
    const found = findLongArray(item, max, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`);
    if (found) return found;
  }
  return null;
}

/** Half a UTF-16 surrogate pair, or NUL. */
const UNSTORABLE = /[\p{Cs}\u0000]/u;

/**
 * The path of the first string (value or key) holding half of a UTF-16 surrogate pair (`"\ud800"`) or a NUL, or null.
 * PostgreSQL text can hold neither (NUL fails the query, a lone surrogate becomes U+FFFD), and validator.js's isEmail
 * throws a URIError on a lone surrogate: both answered 500 before this check.
 */
export function findUnstorableString(value: unknown, path = '$'): string | null {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    if (UNSTORABLE.test(key)) return path;
    const found = findUnstorableString(item, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`);
    if (found) return found;
  }
  return null;
}

/** Content-Encoding values that compress (RFC 9110 and the registry), possibly several, comma-separated. */
const COMPRESSIONS = /(^|,)\s*(x-)?(gzip|deflate|br|zstd|compress|dcb|dcz|aes128gcm)\s*(,|$)/;

/**
 * The one JSON body parser (Nest's own is switched off with `bodyParser: false`): Fastify's default parser, which
 * refuses `__proto__` and `constructor.prototype` keys, behind the nesting limit; an empty body is no body. Form-encoded bodies have no parser
 * and get 415: the API speaks JSON only.
 */
export function registerJsonBodyParser(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  // Bytes, decoded here: Fastify's string decoding put U+FFFD in place of bytes that are not UTF-8, so a mangled name
  // was stored as if sent (or, with a Content-Length, refused as a body of the wrong size).
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  // Fastify also reads text/plain by default, which reached the validators as a string and was answered with a list of
  // field errors about a body nobody sent: the API speaks JSON, so text is 415 like any other type.
  fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const encoding = request.headers['content-encoding']?.trim().toLowerCase();
    // Compressions only: a mislabel some clients send (`utf-8`) is no reason to refuse plain JSON.
    if (encoding && COMPRESSIONS.test(encoding)) {
      const message = `A request body encoded as ${encoding.slice(0, 40)} is not accepted: send it unencoded.`;
      done(Object.assign(new Error(message), { statusCode: 415, code: 'SPROUT_BODY_ENCODED' }), undefined);
      return;
    }
    let text: string;
    try {
      text = typeof body === 'string' ? body : utf8.decode(body);
    } catch {
      done(Object.assign(new Error('The body is not UTF-8 text.'), { statusCode: 400, code: 'SPROUT_BODY_NOT_UTF8' }), undefined);
      return;
    }
    // Many HTTP clients label every request JSON: a bodiless action (logout, submit, unmatch) must not fail on it.
    // A route that needs a body still answers 400 "must be a JSON object" (ValidationPipe).
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    if (nestingExceeds(text, MAX_JSON_DEPTH)) {
      const error = Object.assign(new Error(`The body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels.`), { statusCode: 400, code: 'SPROUT_BODY_TOO_DEEP' });
      done(error, undefined);
      return;
    }
    parse(request, text, (error: Error | null, value?: unknown) => {
      const broken = error ? null : findUnstorableString(value);
      if (broken) {
        const message = `The body has a string that is not valid Unicode text (a NUL or an unpaired surrogate) at ${broken}.`;
        done(Object.assign(new Error(message), { statusCode: 400, code: 'SPROUT_BODY_BAD_UNICODE' }), undefined);
        return;
      }
      const long = error ? null : findLongArray(value);
      if (long) {
        const message = `The body has an array of more than ${MAX_JSON_ARRAY_ITEMS} items at ${long}.`;
        done(Object.assign(new Error(message), { statusCode: 400, code: 'SPROUT_BODY_ARRAY_TOO_LONG' }), undefined);
        return;
      }
      done(error, value);
    });
  });
}
