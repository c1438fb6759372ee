import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the security and reliability suites leave their figures (git-ignored); the README section quotes them. */
export const SECURITY_REPORT_DIR = join(__dirname, '..', '..', 'var', 'security');

export function writeSecurityFigure(name: string, figure: unknown): void {
  mkdirSync(SECURITY_REPORT_DIR, { recursive: true });
  writeFileSync(join(SECURITY_REPORT_DIR, `${name}.json`), `${JSON.stringify(figure, null, 2)}\n`);
}
