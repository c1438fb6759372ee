import { parseIfMatch } from 'src/applications/if-match';
import { InvalidInputException } from 'src/common/problem/problem.exception';

describe('parseIfMatch', () => {
  it('reads the version quoted, bare or as a weak tag; no header, an empty one or * checks nothing', () => {
    expect(parseIfMatch('"7"')).toBe(7);
    expect(parseIfMatch(' 7 ')).toBe(7);
    expect(parseIfMatch('W/"12"')).toBe(12);
    for (const none of [undefined, '', '  ', '*']) expect(parseIfMatch(none)).toBeUndefined();
  });

  it('refuses anything else with 400 naming If-Match: a quote on one side, other tags, lists, huge numbers', () => {
    for (const bad of ['"7', '7"', '"abc"', '"7", "8"', 'W/7"', '-1', '"1234567890"']) {
      expect(() => parseIfMatch(bad)).toThrow(InvalidInputException);
    }
  });
});
