import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { cleanName, IsPersonName } from 'src/common/validation/text-fields';

class Named {
  @IsPersonName(10)
  fullName: string;
}

const check = (fullName: unknown) => {
  const dto = plainToInstance(Named, { fullName });
  return { value: dto.fullName, errors: validateSync(dto).map((e) => Object.keys(e.constraints ?? {})).flat() };
};

describe('person names', () => {
  it('drops what is not shown (controls, direction overrides and marks, zero-width spaces, fillers) and collapses spaces', () => {
    expect(cleanName('  \u202e王小明\u200b ')).toBe('王小明');
    expect(cleanName('Li\u00a0\u00a0 Mei\u200f')).toBe('Li Mei');
    // A tab or a line break between words is a space, not nothing.
    expect(cleanName('Zhang\tWei')).toBe('Zhang Wei');
    expect(cleanName('Zhang\r\nWei \u200b Jr')).toBe('Zhang Wei Jr');
    expect(cleanName('\u2066Ayşe\u2069\ufeff')).toBe('Ayşe');
    // Joiners stay: some scripts spell with them.
    expect(cleanName('می\u200cخواهم')).toBe('می\u200cخواهم');
  });

  it('refuses a name with no letter or digit left, and one too long; keeps the cleaned value', () => {
    expect(check('\u200b\u200f').errors).toEqual(['matches']);
    expect(check('\u3164').errors).toEqual(['matches']);
    expect(check('---').errors).toEqual(['matches']);
    expect(check('  王小明  ')).toEqual({ value: '王小明', errors: [] });
    expect(check('x'.repeat(11)).errors).toEqual(['maxChars']);
    // Counted as PostgreSQL counts: an emoji's variation selector is a character (class-validator's MaxLength skipped it).
    expect(check(`${'x'.repeat(9)}\u2764\ufe0f`).errors).toEqual(['maxChars']);
    expect(check(42).errors).toEqual(expect.arrayContaining(['isString']));
  });
});
