import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * How many of `count` objects made one after another by `make` got a different V8 hidden class (Map) from the object
 * before them. Objects made the same way should share one after the first few; one class per object is what
 * `{ ...a, newKey }` gives on Node 20 (application-reads.ts). `make` is JavaScript source of `(i) => object`, run in a
 * child Node with --allow-natives-syntax (%HaveSameMap) and the project's TypeScript loader, so it may `require('src/…')`.
 */
export function hiddenClassChanges(make: string, count = 300): number {
  const script = `
    const make = ${make};
    let previous = make(0), changes = 0;
    for (let i = 1; i < ${count}; i++) { const next = make(i); if (!%HaveSameMap(previous, next)) changes++; previous = next; }
    process.stdout.write(String(changes));`;
  const child = spawnSync(
    process.execPath,
    ['--allow-natives-syntax', '-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', '-e', script],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') } },
  );
  if (child.status !== 0) throw new Error(`hidden class probe failed (${child.status}): ${child.stderr}`);
  return Number(child.stdout);
}
