import { EntityManager } from 'typeorm';
import { renumber, writeTogether } from 'src/database/statement-parts';

describe('renumber', () => {
  it('shifts every placeholder, two-digit ones included, and leaves other text alone', () => {
    expect(renumber('INSERT INTO t (a, b) VALUES ($1, $12) -- $x', 3)).toBe('INSERT INTO t (a, b) VALUES ($4, $15) -- $x');
    expect(renumber('SELECT $1', 0)).toBe('SELECT $1');
  });
});

describe('writeTogether', () => {
  it('sends the parts as CTEs w0, w1, … of one statement, each with its parameters after the previous parts', async () => {
    const sent: { sql: string; params: unknown[] }[] = [];
    const tx = { query: async (sql: string, params: unknown[]) => (sent.push({ sql, params }), [{ n: 1 }]) } as unknown as EntityManager;
    const rows = await writeTogether(
      tx,
      [
        { sql: 'UPDATE a SET x = $2 WHERE id = $1 RETURNING id', params: ['id', 'x'] },
        { sql: 'INSERT INTO b (id, y) SELECT w0.id, $1 FROM w0', params: ['y'] },
      ],
      'SELECT count(*) AS n FROM w0',
    );
    expect(rows).toEqual([{ n: 1 }]);
    expect(sent).toEqual([
      {
        sql: 'WITH w0 AS (UPDATE a SET x = $2 WHERE id = $1 RETURNING id), w1 AS (INSERT INTO b (id, y) SELECT w0.id, $3 FROM w0) SELECT count(*) AS n FROM w0',
        params: ['id', 'x', 'y'],
      },
    ]);
  });
});
