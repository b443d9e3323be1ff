/**
 * The layer rules (.dependency-cruiser.cjs) can fail: a small house with one import of each
 * forbidden kind is cruised with the project's own rules, and every rule must report it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

function cruise(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'layers-'));
  try {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    cpSync(path.join(ROOT, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true } }),
    );
    try {
      const folders = [...new Set(Object.keys(files).map((f) => f.split('/')[0]!))];
      execFileSync(
        path.join(ROOT, 'node_modules/.bin/depcruise'),
        [...folders, '--config', '.dependency-cruiser.cjs', '--output-type', 'err'],
        { cwd: dir, encoding: 'utf8', stdio: 'pipe' },
      );
      return '';
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? err);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the floors of the house', () => {
  test('a clean house passes the layer rules', () => {
    expect(
      cruise({
        'domain/a.ts': 'export const a = 1;\n',
        'db/b.ts': "import { a } from '../domain/a';\nexport const b = a;\n",
        'activities/c.ts': "import { b } from '../db/b';\nexport const c = () => b;\n",
        'workflows/w.ts': "import type { c } from '../activities/c';\nexport type W = typeof c;\n",
        'api/r.ts': "import type { W } from '../workflows/w';\nexport type R = W;\n",
      }),
    ).toBe('');
  });

  test('every forbidden import is reported by its rule', () => {
    const out = cruise({
      'domain/a.ts': "import { p } from '../platform/p';\nexport const a = p;\n",
      'platform/p.ts': "import { b } from '../db/b';\nexport const p = b;\n",
      'db/b.ts': "import { w } from '../workflows/w';\nexport const b = w;\n",
      'workflows/w.ts': "import { c } from '../activities/c';\nexport const w = c;\n",
      'activities/c.ts': "import { r } from '../api/r';\nexport const c = r;\n",
      'api/r.ts': "import { k } from '../workers/k';\nexport const r = k;\n",
      'workers/k.ts': 'export const k = 1;\n',
    });
    for (const rule of [
      'domain-is-the-floor',
      'platform-stands-on-domain',
      'db-below-processes',
      'workflows-activity-types-only',
      'activities-below-api',
      'api-below-workers',
    ]) {
      expect(out).toContain(rule);
    }
  });

  test('a worker that imports the API is reported', () => {
    const floors = Object.fromEntries(
      ['domain', 'platform', 'db', 'workflows', 'activities'].map((dir) => [`${dir}/x.ts`, 'export const x = 1;\n']),
    );
    const out = cruise({
      ...floors,
      'api/errors.ts': 'export const errorBody = 1;\n',
      'workers/metrics.ts': "import { errorBody } from '../api/errors';\nexport const m = errorBody;\n",
    });
    expect(out).toContain('workers-import-no-api');
  });

  test('the API runs no activity code and opens no transaction; a command stands on db', () => {
    const out = cruise({
      'db/tx.ts': 'export const tx = 1;\n',
      'activities/c.ts': 'export const c = 1;\n',
      'commands/m.ts': "import { c } from '../activities/c';\nexport const m = c;\n",
      'api/r.ts':
        "import { c } from '../activities/c';\nimport { tx } from '../db/tx';\nimport { m } from '../commands/m';\nexport const r = [c, tx, m];\n",
    });
    for (const rule of ['api-and-web-run-no-activities', 'api-and-web-write-through-commands', 'commands-stand-on-db'])
      expect(out).toContain(rule);
  });
});
