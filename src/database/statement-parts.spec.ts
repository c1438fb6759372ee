import { EntityManager } from 'typeorm';
import { preparedStatementName, queryPrepared } from 'src/database/prepared-query';
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
    // A query runner outside a transaction: queryPrepared sends a plain query through the manager.
    const tx = {
      queryRunner: { isTransactionActive: false },
      query: async (sql: string, params: unknown[]) => (sent.push({ sql, params }), [{ n: 1 }]),
    } as unknown as EntityManager;
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

describe('queryPrepared on the DataSource\'s own manager', () => {
  it('sends a named prepared statement on the pool (a statement of its own), not through the manager', async () => {
    const sent: { name: string; text: string; values: unknown[] }[] = [];
    const pool = { query: async (q: { name: string; text: string; values: unknown[] }) => (sent.push(q), { rows: [{ n: 1 }] }) };
    const manager = {
      connection: { driver: { master: pool } },
      query: async () => {
        throw new Error('not through the manager');
      },
    } as unknown as EntityManager;
    expect(await queryPrepared(manager, 'SELECT $1::int AS n', [1])).toEqual([{ n: 1 }]);
    expect(sent).toEqual([{ name: preparedStatementName('SELECT $1::int AS n'), text: 'SELECT $1::int AS n', values: [1] }]);
  });
});
