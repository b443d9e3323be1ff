/**
 * `npm run check:invariants [-- --settle-ms N] [-- --once]`: checks the engine's invariants
 * (workers/invariants.ts) against the Postgres and Temporal `npm start` uses with the same environment
 * (platform/cli-connections.ts), prints each
 * violation with its ids and one summary line per rule, and exits 1 when anything is found.
 * What it finds is re-checked once after the settle time, so a process caught between two steps
 * is not reported; --once skips that.
 */
import { createDb } from '../db';
import { cliDatabaseUrl, reachPostgres, reachTemporal } from '../platform/cli-connections';
import { loadConfig } from '../platform/config';
import { checkInvariantsSettled, DEFAULT_SETTLE_MS, runInvariants } from './invariants';

const say = (line: string) => process.stdout.write(`${line}\n`);

function parseArgs(argv: string[]): { settleMs: number; once: boolean } {
  let settleMs = DEFAULT_SETTLE_MS;
  let once = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--once') once = true;
    else if (a === '--settle-ms' && /^\d+$/.test(argv[i + 1] ?? '')) settleMs = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}\nusage: npm run check:invariants [-- --settle-ms N] [--once]`);
  }
  return { settleMs, once };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const db = createDb(cliDatabaseUrl(config), 4);
  let temporal;
  try {
    await reachPostgres(db, config);
    temporal = await reachTemporal(config);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  try {
    const deps = { db, temporal, namespace: config.TEMPORAL_NAMESPACE };
    const report = args.once
      ? await runInvariants(deps, { settleMs: args.settleMs })
      : await checkInvariantsSettled(deps, { settleMs: args.settleMs });
    for (const v of report.violations) {
      say(
        `VIOLATION ${v.rule} ${Object.entries(v.ids)
          .map(([k, id]) => `${k}=${id}`)
          .join(' ')}: ${v.message}`,
      );
    }
    const width = Math.max(...report.rules.map((r) => r.rule.length));
    for (const r of report.rules)
      say(`${r.violations ? 'FAIL' : 'ok  '} ${r.rule.padEnd(width)}  checked ${r.checked}, violations ${r.violations}`);
    say(report.violations.length ? `${report.violations.length} violation(s)` : 'every invariant holds');
    process.exitCode = report.violations.length ? 1 : 0;
  } finally {
    await Promise.allSettled([db.destroy(), temporal.connection.close()]);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
