/**
 * `npm run bench:faults [-- --seconds 60 --rate 4 --down 30 --only postgres-stop,cds-stop]`: the fault
 * runs of tests/faults-*.int.test.ts, longer and on one engine started as `npm start` does: for
 * each fault in turn, the mixed load, the fault part-way through, the backlog drained, rows
 * counted against the keys sent, the invariant checker. Prints what the API answered meanwhile
 * and one row per fault for the README's Reliability table.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEngineProcess } from '../tests/engine-process';
import { SCENARIOS } from './fault-scenarios';
import { faultRow, observed, runFault } from './fault-run';
import { printLoad } from './mixed';

const say = (line = '') => process.stdout.write(`${line}\n`);

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      rate: { type: 'string' },
      down: { type: 'string' },
      only: { type: 'string' },
      'tmpfs-mib': { type: 'string' },
    },
  });
  const loadSeconds = Number(values.seconds ?? process.env.BENCH_SECONDS ?? 60);
  const rate = Number(values.rate ?? process.env.BENCH_RATE ?? 4);
  const downMs = Number(values.down ?? 30) * 1000;
  const names = values.only ? values.only.split(',') : Object.keys(SCENARIOS).filter((n) => n !== 'disk-full' || process.getuid?.() === 0);
  const unknown = names.filter((n) => !SCENARIOS[n]);
  if (unknown.length) throw new Error(`unknown fault ${unknown.join(', ')}; one of ${Object.keys(SCENARIOS).join(', ')}`);
  say(
    `machine: ${os.cpus().length} cores (nproc), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, ${new Date().toISOString()}`,
  );
  // disk-full needs the data folder on a small disk of its own: a tmpfs (root only).
  const tmpfsMib = Number(values['tmpfs-mib'] ?? (names.includes('disk-full') ? 1024 : 0));
  let dataDir: string | undefined;
  if (tmpfsMib) {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'clinical-faults-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${tmpfsMib}m,mode=0755`, 'tmpfs', dataDir]);
    say(`data folder on a ${tmpfsMib} MiB tmpfs at ${dataDir}`);
  }
  const engine = await startEngineProcess({ dataDir });
  const rows: string[] = [];
  try {
    for (const name of names) {
      const scenario = SCENARIOS[name]!;
      say(`\n== ${scenario.what}: ${rate} journeys/s for ${loadSeconds} s, fault after ${loadSeconds / 4} s`);
      const opts = { loadSeconds, rate, downMs, faultAfterMs: (loadSeconds * 1000) / 4, log: (l: string) => say(`  ${l}`) };
      const r = await runFault(engine, scenario, opts);
      say(`  ${observed(r.observations)}`);
      printLoad(r.record, (r.record.endedAt - r.record.startedAt) / 1000);
      say(
        `  rows: ${Object.entries(r.rows)
          .map(([t, x]) => `${t} keys ${x.keys} / 201 ${x.answered} / rows ${x.rows} / dup ${x.duplicated} / lost ${x.lost}`)
          .join('; ')}`,
      );
      if (Object.values(r.left).some((n) => n > 0)) say(`  NOT drained: ${JSON.stringify(r.left)}`);
      for (const v of r.violations) say(`  VIOLATION ${v.rule} ${JSON.stringify(v.ids)}: ${v.message}`);
      rows.push(faultRow(r, opts));
      say(rows[rows.length - 1]);
    }
  } finally {
    await engine.stop();
    if (dataDir) {
      // Parts the faults started again exit a moment after the engine: try for a while.
      for (let i = 0; ; i++) {
        try {
          execFileSync('umount', [dataDir], { stdio: 'ignore' });
          break;
        } catch (err) {
          if (i >= 30) throw err;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  say(
    '\n| fault | load during it | processes in flight | lost | duplicated | time to recover | fault → backlog drained | invariant violations |',
  );
  say('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) say(row);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
