import {
  birthDateFromNationalId,
  hasValidCheckCharacter,
  isValidNationalId,
  isWellFormedNationalId,
  maskNationalId,
  nationalIdCheckCharacter,
  normalizeNationalId,
} from 'src/applications/national-id';

/** A well-formed id: address code, birth date and sequence, completed with its check character. */
function makeId(address: string, birthDate: string, sequence: string): string {
  const body = `${address}${birthDate}${sequence}`;
  return body + nationalIdCheckCharacter(body);
}

const now = new Date('2026-03-01T17:00:00Z'); // already 2026-03-02 in China

describe('nationalIdCheckCharacter', () => {
  it.each([
    // The worked example of GB 11643-1999 and an id whose check character is X.
    ['11010519491231002', 'X'],
    ['44052418800101001', '4'],
    ['31010120190501001', '5'],
    ['31010119880101002', '4'],
  ])('of %s is %s', (body, check) => {
    expect(nationalIdCheckCharacter(body)).toBe(check);
  });
});

describe('isValidNationalId', () => {
  it('accepts ids with a correct check character and a real past birth date', () => {
    expect(isValidNationalId('11010519491231002X', now)).toBe(true);
    expect(isValidNationalId('310101201905010015', now)).toBe(true);
    expect(isValidNationalId(makeId('440305', '20200229', '123'), now)).toBe(true);
  });

  it('refuses the sample ids of API.md, whose check characters are wrong; they are well formed, so applications take them (with a warning)', () => {
    for (const id of ['310101201905010011', '310101198801010022']) {
      expect(isValidNationalId(id, now)).toBe(false);
      expect(hasValidCheckCharacter(id)).toBe(false);
      expect(isWellFormedNationalId(id, now)).toBe(true);
    }
    expect(hasValidCheckCharacter('310101201905010015')).toBe(true);
  });

  it('is not well formed with 17 characters, a letter inside, or a birth date that is not real or lies ahead', () => {
    for (const id of ['31010120190501001', '3101012019050100A5', '310101201913010015', '310101209901010015']) expect(isWellFormedNationalId(id, now)).toBe(false);
  });

  it('refuses a single mistyped digit', () => {
    const valid = makeId('310101', '20190501', '001');
    const mistyped = `${valid.slice(0, 3)}${(Number(valid[3]) + 1) % 10}${valid.slice(4)}`;
    expect(isValidNationalId(valid, now)).toBe(true);
    expect(isValidNationalId(mistyped, now)).toBe(false);
  });

  it('refuses two swapped neighbouring digits', () => {
    expect(isValidNationalId('310101201905010015', now)).toBe(true);
    expect(isValidNationalId('301101201905010015', now)).toBe(false);
  });

  it.each([
    ['too short', '31010120190501001'],
    ['too long', '3101012019050100155'],
    ['a letter inside', '3101012019O5010015'],
    ['a lower-case x (normalize first)', '11010519491231002x'],
    ['surrounding spaces (normalize first)', ' 310101201905010015'],
    ['the old 15-digit form', '310101190501001'],
  ])('refuses %s', (_name, id) => {
    expect(isValidNationalId(id, now)).toBe(false);
  });

  it.each([
    ['29 February of a common year', '20190229'],
    ['month 13', '20191301'],
    ['day 0', '20190500'],
    ['31 April', '20190431'],
    ['tomorrow in China', '20260303'],
    ['next year', '20270101'],
  ])('refuses a correct check character on a birth date of %s', (_name, birthDate) => {
    expect(isValidNationalId(makeId('310101', birthDate, '001'), now)).toBe(false);
  });

  it('accepts a child born today in China, though it is still yesterday in UTC', () => {
    expect(isValidNationalId(makeId('310101', '20260302', '001'), now)).toBe(true);
  });
});

describe('birthDateFromNationalId', () => {
  it('reads the embedded birth date', () => {
    expect(birthDateFromNationalId('11010519491231002X', now)).toBe('1949-12-31');
    expect(birthDateFromNationalId(makeId('440305', '20200229', '123'), now)).toBe('2020-02-29');
  });

  it('is null for an impossible or future date and for a malformed id', () => {
    expect(birthDateFromNationalId(makeId('310101', '20190229', '001'), now)).toBeNull();
    expect(birthDateFromNationalId(makeId('310101', '20300101', '001'), now)).toBeNull();
    expect(birthDateFromNationalId('not an id', now)).toBeNull();
  });

  it('is null before 1900, as a date of birth may not be (1019 is a mistyped 2019)', () => {
    expect(birthDateFromNationalId(makeId('110105', '10191231', '002'), now)).toBeNull();
    expect(birthDateFromNationalId(makeId('110105', '18991231', '002'), now)).toBeNull();
    expect(birthDateFromNationalId(makeId('110105', '19000101', '002'), now)).toBe('1900-01-01');
  });
});

describe('normalizeNationalId', () => {
  it('trims and upper-cases the check character', () => {
    expect(normalizeNationalId('  11010519491231002x \n')).toBe('11010519491231002X');
  });

  it('makes a typed id valid when only its form was off', () => {
    expect(isValidNationalId(normalizeNationalId(' 11010519491231002x'), now)).toBe(true);
  });
});

describe('maskNationalId', () => {
  it('keeps the last four only: with the birth date staff read beside it, region and ending would be the whole id', () => {
    expect(maskNationalId('31010120190501001X')).toBe('**************001X');
  });

  it('stars all of anything too short to keep four of', () => {
    expect(maskNationalId('1234')).toBe('****');
    expect(maskNationalId('12345')).toBe('*2345');
  });
});
