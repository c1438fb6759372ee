import type { DataSource } from 'typeorm';
import { PreparedQueries } from 'src/database/prepared-queries';

function withPool() {
  const sent: { name: string; text: string; values: unknown[] }[] = [];
  const pool = { query: async (config: { name: string; text: string; values: unknown[] }) => (sent.push(config), { rows: [{ ok: true }] }) };
  const dataSource = { driver: { master: pool } } as unknown as DataSource;
  return { queries: new PreparedQueries(dataSource), sent };
}

describe('PreparedQueries', () => {
  it('sends a named statement: one stable name per text, a different name for a different text', async () => {
    const { queries, sent } = withPool();
    expect(await queries.rows('SELECT $1::int AS a', [1])).toEqual([{ ok: true }]);
    await queries.rows('SELECT $1::int AS a', [2]);
    await queries.rows('SELECT $1::int AS b', [3]);
    expect(sent[0].name).toMatch(/^sprout_[0-9a-f]{24}$/);
    expect(sent[1].name).toBe(sent[0].name);
    expect(sent[2].name).not.toBe(sent[0].name);
    expect(sent.map((s) => s.values)).toEqual([[1], [2], [3]]);
  });

  it('names a text the same way in every process, so restarts and replicas agree', async () => {
    const a = withPool();
    const b = withPool();
    await a.queries.rows('SELECT 1', []);
    await b.queries.rows('SELECT 1', []);
    expect(a.sent[0].name).toBe(b.sent[0].name);
  });
});
