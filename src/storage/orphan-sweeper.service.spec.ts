import { orphanGraceMs } from 'src/storage/orphan-sweeper.service';

const MINUTE = 60_000;

describe('orphanGraceMs', () => {
  it('outlasts any request that may still insert its row, and is never under an hour', () => {
    expect(orphanGraceMs(60 * MINUTE)).toBe(70 * MINUTE);
    expect(orphanGraceMs(24 * 60 * MINUTE)).toBe(24 * 60 * MINUTE + 10 * MINUTE);
    expect(orphanGraceMs(5 * MINUTE)).toBe(60 * MINUTE);
  });

  it('is a day when requests have no time limit', () => {
    expect(orphanGraceMs(0)).toBe(24 * 60 * MINUTE);
  });
});
