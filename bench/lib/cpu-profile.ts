/** Reads a .cpuprofile and lists where the time went: self time per function and per package/file. */
import { readFileSync } from 'node:fs';

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] };
type Profile = { nodes: Node[]; samples?: number[]; timeDeltas?: number[]; startTime: number; endTime: number };

export type Hotspot = { name: string; selfPercent: number };

export function hotspots(file: string, top = 25): { functions: Hotspot[]; packages: Hotspot[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const self = new Map<number, number>();
  for (const node of profile.nodes) self.set(node.id, node.hitCount ?? 0);
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = self.get(node.id) ?? 0;
    if (!hits) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/').replace(/^.*\/var\/bench-dist\//, '');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    const pkg = /^node_modules\/((@[^/]+\/)?[^/]+)/.exec(where)?.[1] ?? (where.startsWith('src/') ? where.split('/').slice(0, 2).join('/') : where || functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
  }
  const rank = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, hits]) => ({ name, selfPercent: Math.round((1000 * hits) / total) / 10 }));
  return { functions: rank(byFunction), packages: rank(byPackage) };
}

if (require.main === module) {
  const { functions, packages } = hotspots(process.argv[2], Number(process.argv[3] ?? 30));
  console.log('self time by package/file:');
  for (const p of packages) console.log(`  ${p.selfPercent.toFixed(1).padStart(5)}%  ${p.name}`);
  console.log('self time by function:');
  for (const f of functions) console.log(`  ${f.selfPercent.toFixed(1).padStart(5)}%  ${f.name}`);
}
