import { StatementParseError, decodeUtf8, isCalendarDate } from 'src/reconciliation/parsers/statement-entry';

async function decodeAll(chunks: (Buffer | string)[]): Promise<string[]> {
  const texts: string[] = [];
  for await (const text of decodeUtf8((async function* () { yield* chunks; })())) texts.push(text);
  return texts;
}

describe('isCalendarDate', () => {
  it.each(['2026-03-02', '2024-02-29', '2000-02-29', '1999-12-31'])('accepts %s', (text) => {
    expect(isCalendarDate(text)).toBe(true);
  });

  it.each(['2026-02-29', '1900-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '2026-3-2', '20260302', '2026-03-02T00:00:00', ' 2026-03-02', ''])(
    'refuses %p',
    (text) => {
      expect(isCalendarDate(text)).toBe(false);
    },
  );
});

describe('decodeUtf8', () => {
  it('joins a character split across chunks and drops the BOM', async () => {
    const bytes = Buffer.from('\uFEFF拨款 SPR', 'utf8');
    const texts = await decodeAll([bytes.subarray(0, 4), bytes.subarray(4, 5), bytes.subarray(5)]);
    expect(texts.join('')).toBe('拨款 SPR');
  });

  it('passes strings through', async () => {
    expect(await decodeAll(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('refuses bytes that are not UTF-8, naming the line', async () => {
    const chunks = [Buffer.from('one\ntwo\n'), Buffer.concat([Buffer.from('three\nfo'), Buffer.from([0xff]), Buffer.from('ur\n')])];
    await expect(decodeAll(chunks)).rejects.toThrow(new StatementParseError('the file is not UTF-8 text', 'line 4'));
  });

  it('refuses a file ending inside a character', async () => {
    await expect(decodeAll([Buffer.from('ok\n'), Buffer.from('拨', 'utf8').subarray(0, 2)])).rejects.toThrow(
      new StatementParseError('the file ends inside a UTF-8 character', 'line 2'),
    );
  });

  it('writes the location before the reason in the message', () => {
    const error = new StatementParseError("amount '12,5' is not a decimal", 'line 7');
    expect(error).toMatchObject({ name: 'StatementParseError', message: "line 7: amount '12,5' is not a decimal", location: 'line 7' });
  });
});
