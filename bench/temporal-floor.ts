/**
 * `npm run bench:floor`: the least one process per booking can cost on this machine. A Temporal
 * dev server as `npm start` runs it (SQLite file, WAL) and a worker in this process; `CLIENTS`
 * loops start `benchFloorWorkflow` (one task, one 30-day timer, the three search attributes a
 * booking has) and nothing else: no HTTP, no Postgres. For each way of starting, prints starts/s,
 * the seconds until every first task has run (the server's CPU is idle again), and CPU ms per
 * process of the server and of this process (client + worker):
 *   - start only: nobody polls the queue (the start alone);
 *   - start + task: a worker polls, with the SDK's defaults (10 workflow-task pollers, of which
 *     2 on the normal queue, where every new workflow's first task arrives), then with the
 *     clinical worker's settings (`CLINICAL_WORKER_OPTIONS`), then with the SDK's autoscaling pollers;
 *   - eager start: the client shares the worker's connection and asks for the first task in the
 *     start's answer (`eagerlyStarted` says whether the server gave it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { CLINICAL_WORKER_OPTIONS } from '../workers/clinical';
import { clinicIdKey, patientIdKey, processStatusKey } from '../workflows/search-attributes';
import { ensureTemporalCli, startTemporalDevServer } from '../local-stack/stack';
import { cpuSeconds, enginePids } from './process-cpu';
import { percentile } from './stack';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);
const STARTS = Number(process.env.BENCH_STARTS ?? 2000);
const say = (line: string) => process.stdout.write(`${line}\n`);
const serverCpu = () => (enginePids(process.pid).temporal ?? []).reduce((s, p) => s + cpuSeconds(p), 0);

async function startMany(client: Client, taskQueue: string, tag: string, eager: boolean) {
  const latencies: number[] = [];
  let eagerly = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < STARTS; i = next++) {
        const s = performance.now();
        const handle = await client.workflow.start('benchFloorWorkflow', {
          workflowId: `floor-${tag}-${i}`,
          taskQueue,
          args: [],
          requestEagerStart: eager,
          typedSearchAttributes: [
            { key: clinicIdKey, value: crypto.randomUUID() },
            { key: patientIdKey, value: crypto.randomUUID() },
            { key: processStatusKey, value: 'booked' },
          ],
        });
        latencies.push(performance.now() - s);
        if (handle.eagerlyStarted) eagerly++;
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99), eagerly };
}

/** Waits until the server has used under 3 % of a core for a whole second: every task has run. */
async function serverIdle(): Promise<void> {
  for (let last = serverCpu(); ;) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = serverCpu();
    if (now - last < 0.03) return;
    last = now;
  }
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floor-'));
  const executable = await ensureTemporalCli(path.join(__dirname, '../.tools'), say, process.env.TEMPORAL_CLI_PATH);
  const temporal = await startTemporalDevServer({ executable, dbFilename: path.join(dir, 'temporal.db') });
  const connection = await Connection.connect({ address: temporal.address });
  const native = await NativeConnection.connect({ address: temporal.address });
  const rows: Array<Record<string, number | string>> = [];
  try {
    const measure = async (phase: string, client: Client, taskQueue: string, eager = false) => {
      await serverIdle();
      const [s0, c0, t0] = [serverCpu(), cpuSeconds(process.pid), performance.now()];
      const r = await startMany(client, taskQueue, phase.replace(/\W+/g, '-'), eager);
      await serverIdle();
      const [s1, c1] = [serverCpu(), cpuSeconds(process.pid)];
      const settled = (performance.now() - t0) / 1000 - 1; // less the idle second that proved it
      rows.push({
        phase,
        clients: CLIENTS,
        starts: STARTS,
        startsPerSec: +(STARTS / r.seconds).toFixed(1),
        startP50: +r.p50.toFixed(1),
        startP99: +r.p99.toFixed(1),
        processesPerSec: +(STARTS / settled).toFixed(1),
        eagerlyStarted: r.eagerly,
        temporalCpuMs: +(((s1 - s0) * 1000) / STARTS).toFixed(1),
        clientAndWorkerCpuMs: +(((c1 - c0) * 1000) / STARTS).toFixed(1),
      });
      say(JSON.stringify(rows.at(-1)));
    };
    await measure('start only', new Client({ connection }), 'floor-nobody');
    const withWorker = async (phase: string, options: Partial<WorkerOptions>, eager = false) => {
      const taskQueue = `floor-${phase.replace(/\W+/g, '-')}`;
      const worker = await Worker.create({ connection: native, taskQueue, workflowsPath: require.resolve('./workflows'), ...options });
      const running = worker.run();
      await measure(phase, new Client({ connection: eager ? native : connection }), taskQueue, eager);
      worker.shutdown();
      await running;
    };
    await withWorker('start + task, SDK defaults', {});
    await withWorker('start + task, clinical worker settings', CLINICAL_WORKER_OPTIONS);
    await withWorker('start + task, autoscaling pollers', { workflowTaskPollerBehavior: { type: 'autoscaling' } });
    await withWorker('eager start + task, clinical worker settings', CLINICAL_WORKER_OPTIONS, true);
  } finally {
    await connection.close();
    await native.close();
    await temporal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  say(
    `\nbench:floor — Temporal CLI dev server (SQLite file, WAL), ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)}; ${new Date().toISOString().slice(0, 16)}Z; CPU ms per process`,
  );
  console.table(rows);
  say(JSON.stringify({ bench: 'temporal-floor', rows }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
