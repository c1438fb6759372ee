import { ValueTransformer } from 'typeorm';

/** bigint fen column ⇄ number. pg returns int8 as a string; every amount Sprout stores is a safe integer. */
export const fenColumn: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null): number | null => {
    if (value === null) return null;
    const fen = Number(value);
    if (!Number.isSafeInteger(fen)) throw new RangeError('a stored amount is outside the safe integer range');
    return fen;
  },
};
