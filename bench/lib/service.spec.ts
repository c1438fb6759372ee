import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { experimentNodeArgs, ROOT, SERVICE_HEAP_FLAG } from './service';

/** The bench must measure the service as it is deployed: the same Node flags as `npm start` and the Dockerfile. */
describe('the flags the service runs with', () => {
  const HEAP = /--max-old-space-size=(\d+)/;
  const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const cmd = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n').find((line) => line.startsWith('CMD '));

  it('are the same for npm start, the Dockerfile and the bench', () => {
    const bench = SERVICE_HEAP_FLAG;
    expect(bench).toMatch(HEAP);
    for (const launcher of [packageJson.scripts.start, packageJson.scripts['start:prod'], cmd]) {
      expect(launcher?.match(HEAP)?.[1]).toBe(bench.match(HEAP)![1]);
    }
  });

  it('start the built main.js with the flag before it, where Node reads flags', () => {
    expect(packageJson.scripts.start).toMatch(/node --max-old-space-size=\d+ dist\/src\/main\.js$/);
    expect(cmd).toMatch(/^CMD \["node", "--max-old-space-size=\d+", "dist\/src\/main\.js"\]$/);
  });
});

describe('BENCH_SERVICE_NODE_FLAGS', () => {
  it('adds its flags, split on whitespace, and nothing when unset', () => {
    expect(experimentNodeArgs('  --trace-gc   --require /tmp/x.js ')).toEqual(['--trace-gc', '--require', '/tmp/x.js']);
    expect(experimentNodeArgs(undefined)).toEqual([]);
    expect(experimentNodeArgs('')).toEqual([]);
  });
});
