import { ValueTransformer } from 'typeorm';

/** bigint fen columns: pg returns strings; every amount Sprout handles is ≤ 10^12, a safe integer. */
export const fenTransformer: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => {
    if (value === null || value === undefined) return null;
    const fen = Number(value);
    if (!Number.isSafeInteger(fen)) throw new RangeError(`${value} is not a safe integer amount of fen`);
    return fen;
  },
};
