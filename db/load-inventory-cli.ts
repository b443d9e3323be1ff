/**
 * `npm run load:inventory -- equipment.csv [staff.csv …]`: loads each file (equipment or staff, told
 * by its header) in one transaction; a file with bad rows is reported line by line and loads nothing.
 */
import { readFileSync } from 'node:fs';
import { cliDatabaseUrl, reachPostgres } from '../platform/cli-connections';
import { loadConfig } from '../platform/config';
import { createDb } from './index';
import { loadInventory } from './inventory';

async function main() {
  const files = process.argv.slice(2);
  if (files.length === 0) throw new Error('usage: npm run load:inventory -- equipment.csv [staff.csv …]');
  const config = loadConfig();
  const db = createDb(cliDatabaseUrl(config), 2);
  let failed = false;
  try {
    await reachPostgres(db, config);
    for (const file of files) {
      const result = await loadInventory(db, readFileSync(file, 'utf8'));
      if (result.ok) {
        console.log(`${file}: loaded ${result.loaded} ${result.kind} rows`);
      } else {
        failed = true;
        console.error(`${file}: nothing loaded; ${result.problems.length} problem(s):`);
        for (const p of result.problems) console.error(`  line ${p.line}: ${p.message}`);
      }
    }
  } finally {
    await db.destroy();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
