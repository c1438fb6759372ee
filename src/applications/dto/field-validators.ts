import { Transform } from 'class-transformer';
import { buildMessage, IsString, Matches, ValidateBy, ValidationOptions } from 'class-validator';
import { isWellFormedNationalId, normalizeNationalId } from 'src/applications/national-id';
import { MAX_FEN } from 'src/applications/application-fields';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CHINA_OFFSET_MS = 8 * 3600_000;
const EARLIEST_DATE = '1900-01-01';

/** Today's date in China (where the families, hospitals and documents are), whatever the server's time zone. */
export function todayInChina(now: Date = new Date()): string {
  return new Date(now.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

export function isRealDate(value: unknown): value is string {
  const match = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function isRealPastDate(value: unknown, now: Date = new Date()): boolean {
  return isRealDate(value) && value >= EARLIEST_DATE && value <= todayInChina(now);
}

/** A real calendar date YYYY-MM-DD, not before 1900 and not after today. */
export const IsRealPastDate = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isRealPastDate',
      validator: {
        validate: (value) => isRealPastDate(value),
        defaultMessage: buildMessage((each) => `${each}$property must be a real date YYYY-MM-DD, not in the future`, options),
      },
    },
    options,
  );

/**
 * A resident identity number of GB 11643 (18 characters, a real birth date); expects normalizeNationalId first. A wrong
 * check character is a warning, not a refusal (hasValidCheckCharacter).
 */
export const IsNationalId = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isNationalId',
      validator: {
        validate: (value) => typeof value === 'string' && isWellFormedNationalId(value),
        defaultMessage: buildMessage(
          (each) => `${each}$property must be an 18-character resident identity number (17 digits and a digit or X) with a real birth date`,
          options,
        ),
      },
    },
    options,
  );

/** Money: an integer number of fen from 0 to 10^12 (¥10 billion), never a float or a string. */
export const IsFen = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isFen',
      validator: {
        validate: (value) => Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_FEN,
        defaultMessage: buildMessage((each) => `${each}$property must be an integer amount of fen from 0 to ${MAX_FEN}`, options),
      },
    },
    options,
  );

/**
 * A finite number with at most `places` decimals (lab values such as 0.3 ×10⁹/L). Replaces class-validator's
 * `IsNumber({ maxDecimalPlaces })`, which throws a TypeError (→ 500) on numbers JavaScript prints in exponent form
 * (5e-324, 1e-7): it looks for the digits after a '.' that is not there.
 */
export function hasAtMostDecimals(value: unknown, places: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Number(value.toFixed(places)) === value;
}

export const IsDecimal = (places: number, options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isDecimal',
      constraints: [places],
      validator: {
        validate: (value) => hasAtMostDecimals(value, places),
        defaultMessage: buildMessage((each) => `${each}$property must be a number with at most ${places} decimal places`, options),
      },
    },
    options,
  );

export const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
export const toNationalId = ({ value }: { value: unknown }) => (typeof value === 'string' ? normalizeNationalId(value) : value);
/**
 * Spaces, dashes, dots and parentheses people type inside phone numbers ("(139) 1234 5678", "010-1234.5678"), and the
 * international prefix written 0086 ("0086 138 0000 0000") as +86.
 */
export const toPhone = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.replace(/[\s\-.()]/g, '').replace(/^0086(?=1[3-9]\d{9}$)/, '+86') : value;
/** A mainland mobile (optionally +86) or a landline with its area code. */
export const MOBILE_OR_LANDLINE = /^(?:(?:\+86)?1[3-9]\d{9}|0\d{2,3}\d{7,8})$/;

/** A phone number as people type it (spaces and dashes dropped): the same rule for an account's and a guardian's. */
export function IsPhone(): PropertyDecorator {
  return (target, key) => {
    Transform(toPhone)(target, key);
    IsString()(target, key);
    Matches(MOBILE_OR_LANDLINE, { message: '$property must be a mainland China mobile or landline number' })(target, key);
  };
}
/** UUIDs are compared as PostgreSQL prints them (lower case): an id sent in capitals is the same id, not a change. */
export const toLowerCase = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value);

/**
 * An array without repeated items, checked in one pass. class-validator's ArrayUnique compares every pair and runs
 * even when ArrayMaxSize has already failed: 165,000 items (a 1 MB body) held the event loop for 12 s.
 */
export const HasUniqueItems = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'hasUniqueItems',
      validator: {
        validate: (value) => Array.isArray(value) && new Set(value).size === value.length,
        defaultMessage: buildMessage(() => `$property must not repeat an item`, options),
      },
    },
    options,
  );
