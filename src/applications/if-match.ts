import { InvalidInputException } from 'src/common/problem/problem.exception';

/** `If-Match: "7"` (or 7, or W/"7") → 7; absent → undefined (no version check). */
export function parseIfMatch(header: string | undefined, what = 'application'): number | undefined {
  if (header === undefined || header.trim() === '' || header.trim() === '*') return undefined;
  // Quoted as an entity tag, or bare as clients often send it; a quote on one side only is a typo, not a version.
  const match = /^(?:W\/)?(?:"(\d{1,9})"|(\d{1,9}))$/.exec(header.trim());
  if (!match) throw new InvalidInputException([{ field: 'If-Match', message: `must be the ${what} version, e.g. "3"` }]);
  return Number(match[1] ?? match[2]);
}
