/**
 * `npm run bench:mixed [-- --seconds 60 --rate 6]`: the mixed load (bench/mixed-load.ts) for a fixed
 * time against an engine, then how long its backlog takes to drain. By default it starts its own
 * engine exactly as `npm start` does (local-stack/start.ts, its own DATA_DIR and free ports); with
 * API_URL + TOKENS_FILE + DATABASE_URL + TEMPORAL_ADDRESS it loads one that is already running.
 * Prints, per operation, requests/s, p50/p95/p99 ms and outcomes by HTTP status and error code;
 * processes started and completed by type; rows created against the keys sent; the drain time.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEngineProcess, type EngineProcess } from '../tests/engine-process';
import { runMixedLoad, type LoadRecord, type LoadTarget } from './mixed-load';
import { drain, openProbe, processCounts, rowAccounting, type Probe } from './mixed-settle';
import { percentile } from './stack';

const say = (line = '') => process.stdout.write(`${line}\n`);

export function printLoad(record: LoadRecord, seconds: number): void {
  say(`operation                         n   req/s    p50 ms    p95 ms    p99 ms  outcomes`);
  for (const [op, { latencies, outcomes }] of [...record.ops].sort(([a], [b]) => a.localeCompare(b))) {
    const fmt = (p: number) => percentile(latencies, p).toFixed(0).padStart(9);
    const outs = [...outcomes]
      .sort((a, b) => b[1] - a[1])
      .map(([o, n]) => `${o}×${n}`)
      .join(' ');
    if (op.endsWith(' answer')) {
      say(`  ${op.padEnd(28)} ${String(latencies.length).padStart(5)}  ${' '.repeat(35)}${outs}`);
      continue;
    }
    say(
      `${op.padEnd(30)} ${String(latencies.length).padStart(5)} ${(latencies.length / seconds).toFixed(1).padStart(7)} ${fmt(50)} ${fmt(95)} ${fmt(99)}  ${outs}`,
    );
  }
  const j = record.journeys;
  say(`journeys: ${j.started} started, ${j.finished} finished, ${j.failed} failed, ${j.skipped} skipped (in-flight limit)`);
}

export async function printSettled(probe: Probe, since: Date, record: LoadRecord, drainTimeoutMs: number) {
  const drained = await drain(probe, since, drainTimeoutMs);
  const left = Object.entries(drained.left).filter(([, n]) => n > 0);
  say(
    left.length
      ? `backlog NOT drained after ${(drained.ms / 1000).toFixed(1)} s: ${left.map(([k, n]) => `${k} ${n}`).join(', ')}`
      : `backlog drained ${(drained.ms / 1000).toFixed(1)} s after the load stopped`,
  );
  say('processes since the load began (Temporal visibility):');
  for (const r of await processCounts(probe, since))
    say(`  ${r.type.padEnd(24)} started ${r.started}, running ${r.running}, completed ${r.completed}, other ends ${r.other}`);
  const rows = await rowAccounting(probe, since, record);
  say('rows created (Postgres) against Idempotency-Keys sent:');
  for (const [table, r] of Object.entries(rows))
    say(`  ${table.padEnd(14)} keys ${r.keys}, answered 201 ${r.answered}, rows ${r.rows}, duplicated ${r.duplicated}, lost ${r.lost}`);
  return { drained, rows };
}

async function main() {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, rate: { type: 'string' }, 'max-in-flight': { type: 'string' } } });
  const seconds = Number(values.seconds ?? process.env.BENCH_SECONDS ?? 60);
  const rate = Number(values.rate ?? process.env.BENCH_RATE ?? 6);
  const maxInFlight = Number(values['max-in-flight'] ?? process.env.BENCH_MAX_IN_FLIGHT ?? 64);
  let engine: EngineProcess | undefined;
  let target: LoadTarget;
  let databaseUrl: string;
  let temporalAddress: string;
  if (process.env.API_URL) {
    const need = ['TOKENS_FILE', 'DATABASE_URL', 'TEMPORAL_ADDRESS'].filter((k) => !process.env[k]);
    if (need.length) throw new Error(`with API_URL set, also set ${need.join(', ')}`);
    target = { apiUrl: process.env.API_URL, tokens: JSON.parse(readFileSync(process.env.TOKENS_FILE!, 'utf8')) as Record<string, string> };
    [databaseUrl, temporalAddress] = [process.env.DATABASE_URL!, process.env.TEMPORAL_ADDRESS!];
  } else {
    say('Starting an engine as npm start does (own DATA_DIR, free ports)...');
    const t = Date.now();
    engine = await startEngineProcess();
    say(`engine up in ${((Date.now() - t) / 1000).toFixed(1)} s at ${engine.apiUrl} (data ${engine.dataDir})`);
    target = { apiUrl: engine.apiUrl, tokens: engine.tokens };
    [databaseUrl, temporalAddress] = [engine.databaseUrl, engine.temporalAddress];
  }
  const probe = await openProbe(databaseUrl, temporalAddress);
  try {
    const since = new Date(Date.now() - 1000);
    say(`Mixed load: ${rate} journeys/s for ${seconds} s (at most ${maxInFlight} in flight)...`);
    const record = await runMixedLoad(target, { durationMs: seconds * 1000, rate, maxInFlight, retryForMs: 30_000 });
    const ran = (record.endedAt - record.startedAt) / 1000;
    say(`\nload ran ${ran.toFixed(1)} s (journeys started over ${seconds} s; the last ones finished after)`);
    printLoad(record, ran);
    await printSettled(probe, since, record, 300_000);
  } finally {
    await probe.close();
    await engine?.stop();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
