/**
 * The README stays short and true: at most 250 lines, the test command CI runs, the operation count of the API's own
 * OpenAPI document, and links that lead somewhere. docs/configuration.md names every setting platform/config.ts reads.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { createApp } from '../api/app';
import { createDb } from '../db';
import { CONFIG_KEYS } from '../platform/config';
import { createLogger } from '../platform/logger';
import { testConfig } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
/** Markdown without its HTML comments (placeholders for pictures still to come). */
const visible = (text: string) => text.replace(/<!--[\s\S]*?-->/g, '');
const README = read('README.md');

/** The operations of the API's OpenAPI document, from an app that never touches its database or Temporal. */
async function operationCount(): Promise<number> {
  const db = createDb('postgres://nobody:nothing@127.0.0.1:9/none', 1);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'readme-'));
  try {
    const app = createApp({
      config: testConfig({ DATA_DIR: dataDir }),
      db,
      temporal: new Client(),
      logger: createLogger('readme', 'silent'),
    });
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);
    return Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).filter((m) => methods.has(m)).length, 0);
  } finally {
    await db.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('the README is at most 250 lines', () => {
  expect(README.split('\n').length).toBeLessThanOrEqual(250);
});

test("the README's test command is the one .ci/run runs", () => {
  const ci = read('.ci/run').trim().split('\n').at(-1)!;
  expect(ci).toBe('npm install && npm test');
  expect(README).toContain(`\`\`\`sh\n${ci}\n\`\`\``);
});

test('the operation counts in the README and the docs are those of the OpenAPI document', async () => {
  const count = await operationCount();
  expect(README).toContain(`${count} operations in its OpenAPI document`);
  expect(read('docs/record-and-access.md')).toContain(`every operation of the OpenAPI document: ${count} today`);
});

test('every relative link in the README and in docs/ leads to a file that exists', () => {
  const pages = [
    'README.md',
    ...readdirSync(path.join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const missing: string[] = [];
  for (const page of pages) {
    for (const [, target] of visible(read(page)).matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      if (!existsSync(path.resolve(ROOT, path.dirname(page), target!))) missing.push(`${page} -> ${target}`);
    }
  }
  expect(missing).toEqual([]);
  // The README links every page in docs/.
  const linked = new Set([...visible(README).matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]));
  expect(pages.filter((p) => p.startsWith('docs/') && !linked.has(p))).toEqual([]);
});

test('docs/configuration.md names every setting of platform/config.ts, and no other', () => {
  const table = read('docs/configuration.md').split('## Read outside')[0]!;
  const named = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
  expect(named).toEqual(CONFIG_KEYS);
});
