/**
 * Resident identity numbers (GB 11643-1999): 6-digit address code, birth date YYYYMMDD,
 * 3-digit sequence and an ISO 7064 MOD 11-2 check character.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS = '10X98765432';
const SHAPE = /^\d{17}[\dX]$/;
const CHINA_STANDARD_TIME_OFFSET_MS = 8 * 60 * 60 * 1000;

/** Trims and upper-cases the check character x, the forms people actually type. */
export function normalizeNationalId(id: string): string {
  return id.trim().toUpperCase();
}

export function nationalIdCheckCharacter(first17Digits: string): string {
  const sum = WEIGHTS.reduce((total, weight, index) => total + weight * Number(first17Digits[index]), 0);
  return CHECK_CHARACTERS[sum % 11];
}

/**
 * What an application must hold: 17 digits and a digit or X, with a real birth date that is not in the future.
 * Expects a normalized id; `now` decides what "in the future" means.
 */
export function isWellFormedNationalId(id: string, now: Date = new Date()): boolean {
  return SHAPE.test(id) && birthDateFromNationalId(id, now) !== null;
}

/**
 * Whether the check character fits the other 17: a wrong one is a warning (applicationWarnings), not a refusal — the
 * sample ids of API.md have wrong ones, and a family whose card disagrees with the rule must still be able to apply.
 */
export function hasValidCheckCharacter(id: string): boolean {
  return SHAPE.test(id) && nationalIdCheckCharacter(id.slice(0, 17)) === id[17];
}

/**
 * The last four characters, the rest starred. Not the region's six as well: the eight between them are the birth date,
 * which staff read beside the id, and the two shown would make the whole id again without anyone asking for it.
 */
export function maskNationalId(id: string): string {
  return id.length <= 4 ? '*'.repeat(id.length) : `${'*'.repeat(id.length - 4)}${id.slice(-4)}`;
}

/** Well formed and with the right check character. */
export function isValidNationalId(id: string, now: Date = new Date()): boolean {
  return isWellFormedNationalId(id, now) && hasValidCheckCharacter(id);
}

/** The embedded birth date as YYYY-MM-DD, or null when it is not a real date or lies in the future. */
export function birthDateFromNationalId(id: string, now: Date = new Date()): string | null {
  if (!SHAPE.test(id)) return null;
  const [year, month, day] = [id.slice(6, 10), id.slice(10, 12), id.slice(12, 14)].map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  const isRealDate = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  if (!isRealDate) return null;
  const iso = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  if (iso < '1900-01-01') return null; // as for a date of birth (IsRealPastDate): 1019 is a mistyped 2019
  // Birth dates are Beijing dates: compare with today's date in China, whatever the server's time zone.
  const todayInChina = new Date(now.getTime() + CHINA_STANDARD_TIME_OFFSET_MS).toISOString().slice(0, 10);
  return iso <= todayInChina ? iso : null;
}
