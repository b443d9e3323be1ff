/**
 * CDS inference benchmark (`npm run bench:cds`): inferences per second and p50/p99 latency of
 *  (a) the worker's inference path in-process (validation + batcher + session.run), single requests
 *      and 64 concurrent, batching on and off, plus raw session.run at batch 1 and 32;
 *  (b) the end-to-end path through Temporal (client → workflow → cds worker → result, payloads
 *      encrypted), against TEMPORAL_ADDRESS or a dev server started here;
 *  (c) the same model in Python's onnxruntime on the same (golden) inputs, in the same run,
 *      with node/python ratios;
 *  (d) CDS Hooks calls over HTTP through the API route, fast path (the cds worker's scoring
 *      endpoint, no workflow) and workflow path, at 1 and 64 clients, with their ratio (bench/cds-http.ts);
 *  (e) diagnosis suggestions at 1 and 16 clients, and Node against Python on the same texts (bench/diagnosis.ts).
 * Runs on a throwaway bench stack (Postgres + Temporal dev server). Bounded loops; prints tables and one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import * as ort from 'onnxruntime-node';
import { createCdsActivities } from '../activities/cds';
import { loadModelRegistry } from '../activities/cds-models';
import { loadConfig, PROJECT_ROOT } from '../platform/config';
import { dataConverter } from '../platform/temporal';
import { bundleWorkflows } from '../workers/clinical';
import type { benchScoreWorkflow } from './workflows';
import { benchCdsHooksHttp } from './cds-http';
import { benchDiagnosis, printDiagnosis } from './diagnosis';
import { startBenchStack } from './stack';
import { processMetricsSinks } from '../workers/metrics';

const MODEL = 'diabetes-progression';
const MODELS_DIR = path.join(PROJECT_ROOT, 'models');
const ON = { maxBatchSize: 32, maxWaitMs: 2 };
const OFF = { maxBatchSize: 1, maxWaitMs: 0 };
const CONCURRENCY = 64;

interface Row {
  path: string;
  mode: string;
  n: number;
  inferencesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function summarise(pathName: string, mode: string, latMs: number[], totalMs: number, rowsPerCall = 1): Row {
  const s = [...latMs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return {
    path: pathName,
    mode,
    n: latMs.length * rowsPerCall,
    inferencesPerSecond: Math.round((latMs.length * rowsPerCall * 1000) / totalMs),
    p50Ms: +q(0.5).toFixed(4),
    p99Ms: +q(0.99).toFixed(4),
  };
}

/** Runs `total` calls of fn with `concurrency` in flight; returns per-call latencies and wall time. */
async function load(total: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<{ lat: number[]; ms: number }> {
  const lat: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await fn(i);
        lat.push(performance.now() - t0);
      }
    }),
  );
  return { lat, ms: performance.now() - started };
}

function python(batch: number, n: number): { inferencesPerSecond: number; p50Ms: number; p99Ms: number } {
  const out = execFileSync(
    'python3',
    [path.join(MODELS_DIR, 'bench_onnx.py'), '--batch', String(batch), '--n', String(n), '--threads', '1'],
    { encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stack = await startBenchStack();
  const registry = await loadModelRegistry(MODELS_DIR, { intraOpThreads: 1 });
  const meta = registry.get(MODEL)!.meta;
  const golden = JSON.parse(readFileSync(path.join(MODELS_DIR, 'golden', `${MODEL}.json`), 'utf8')) as {
    cases: Array<{ features: number[] }>;
  };
  const requests = golden.cases.map((c) => ({
    modelId: MODEL,
    features: Object.fromEntries(meta.features.map((f, i) => [f.name, c.features[i]!])),
  }));
  const rows: Row[] = [];

  // (a) in-process: raw session.run, then the worker's path.
  const session = registry.get(MODEL)!.session;
  for (const batch of [1, 32]) {
    const data = Float32Array.from(Array.from({ length: batch }, (_, i) => golden.cases[i % golden.cases.length]!.features).flat());
    const feed = { [meta.inputName]: new ort.Tensor('float32', data, [batch, meta.features.length]) };
    for (let i = 0; i < 200; i++) await session.run(feed);
    const n = batch === 1 ? 5000 : 1000;
    const r = await load(n, 1, () => session.run(feed));
    rows.push(summarise('node session.run', `batch ${batch}`, r.lat, r.ms, batch));
  }
  for (const [mode, batch, concurrency, n] of [
    ['single, batching off', OFF, 1, 5000],
    ['single, batching on', ON, 1, 1000],
    [`${CONCURRENCY} concurrent, batching off`, OFF, CONCURRENCY, 20000],
    [`${CONCURRENCY} concurrent, batching on`, ON, CONCURRENCY, 20000],
  ] as const) {
    const { scoreModel } = createCdsActivities({ registry, batch });
    await load(500, concurrency, (i) => scoreModel(requests[i % requests.length]!));
    const r = await load(n, concurrency, (i) => scoreModel(requests[i % requests.length]!));
    rows.push(summarise('worker path in-process', mode, r.lat, r.ms));
  }

  // (b) end to end through Temporal.
  const config = loadConfig();
  const address = config.TEMPORAL_ADDRESS!;
  const connection = await NativeConnection.connect({ address });
  const client = new Client({
    connection: await Connection.connect({ address }),
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverter(config),
  });
  const runId = randomUUID().slice(0, 8);
  const wfQueue = `bench-wf-${runId}`;
  const workflowWorker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: wfQueue,
    dataConverter: dataConverter(config),
    workflowBundle: await bundleWorkflows(require.resolve('./workflows')),
    sinks: processMetricsSinks(),
  });
  const wfRunning = workflowWorker.run();
  for (const [mode, batch, concurrency, n] of [
    ['single, batching off', OFF, 1, 200],
    [`${CONCURRENCY} concurrent, batching off`, OFF, CONCURRENCY, 1500],
    [`${CONCURRENCY} concurrent, batching on`, ON, CONCURRENCY, 1500],
  ] as const) {
    const cdsQueue = `bench-cds-${runId}-${rows.length}`;
    const cdsWorker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: cdsQueue,
      dataConverter: dataConverter(config),
      activities: createCdsActivities({ registry, batch }),
      maxConcurrentActivityTaskExecutions: config.CDS_MAX_CONCURRENT,
    });
    const cdsRunning = cdsWorker.run();
    const once = (i: number) =>
      client.workflow.execute<typeof benchScoreWorkflow>('benchScoreWorkflow', {
        workflowId: `bench-${runId}-${rows.length}-${i}`,
        taskQueue: wfQueue,
        args: [{ taskQueue: cdsQueue, request: requests[i % requests.length]! }],
      });
    await load(50, concurrency, (i) => once(1_000_000 + i));
    const r = await load(n, concurrency, once);
    rows.push(summarise('end to end via Temporal', mode, r.lat, r.ms));
    cdsWorker.shutdown();
    await cdsRunning;
  }
  workflowWorker.shutdown();
  await wfRunning;
  await connection.close();
  await client.connection.close();

  // (d) CDS Hooks over HTTP through the API: fast path and workflow path.
  const http = await benchCdsHooksHttp(config);
  // (e) diagnosis suggestions (bench/diagnosis.ts), on the same stack.
  const diagnosis = await benchDiagnosis({ startStack: false });
  await stack.stop();

  // (c) Python onnxruntime on the same golden inputs, same run.
  const py1 = python(1, 5000);
  const py32 = python(32, 1000);
  const pyRow = (mode: string, n: number, r: typeof py1): Row => ({
    path: 'python onnxruntime',
    mode,
    n,
    inferencesPerSecond: Math.round(r.inferencesPerSecond),
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
  });
  rows.push(pyRow('batch 1', 5000, py1), pyRow('batch 32', 32000, py32));

  const find = (p: string, m: string) => rows.find((r) => r.path === p && r.mode === m)!.inferencesPerSecond;
  const ratios = {
    'node session.run / python, batch 1': find('node session.run', 'batch 1') / py1.inferencesPerSecond,
    'node session.run / python, batch 32': find('node session.run', 'batch 32') / py32.inferencesPerSecond,
    'worker path single (batching off) / python batch 1': find('worker path in-process', 'single, batching off') / py1.inferencesPerSecond,
    [`worker path ${CONCURRENCY} concurrent batched / python batch 32`]:
      find('worker path in-process', `${CONCURRENCY} concurrent, batching on`) / py32.inferencesPerSecond,
  };

  console.log(
    `CDS inference benchmark: ${MODEL}@${meta.version}, ${golden.cases.length} golden inputs cycled, batching on = ${ON.maxBatchSize} rows / ${ON.maxWaitMs} ms, 1 intra-op thread, ${require('node:os').cpus().length} CPUs`,
  );
  console.log(
    `${'path'.padEnd(26)}${'mode'.padEnd(28)}${'n'.padStart(7)}${'inf/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`,
  );
  for (const r of rows)
    console.log(
      `${r.path.padEnd(26)}${r.mode.padEnd(28)}${String(r.n).padStart(7)}${String(r.inferencesPerSecond).padStart(10)}${r.p50Ms.toFixed(3).padStart(10)}${r.p99Ms.toFixed(3).padStart(10)}`,
    );
  for (const [k, v] of Object.entries(ratios)) console.log(`ratio ${k}: ${v.toFixed(2)}`);
  console.log(
    `\nCDS Hooks end to end over HTTP (POST /cds-services/${MODEL}, full prefetch, new hookInstance per call; API, cds and clinical workers as separate processes), ${new Date().toISOString().slice(0, 10)}`,
  );
  console.log(
    `${'path'.padEnd(44)}${'clients'.padEnd(12)}${'n'.padStart(7)}${'calls/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'failed'.padStart(8)}`,
  );
  for (const r of http.rows)
    console.log(
      `${r.path.padEnd(44)}${r.mode.padEnd(12)}${String(r.n).padStart(7)}${String(r.perSecond).padStart(10)}${r.p50Ms.toFixed(1).padStart(10)}${r.p99Ms.toFixed(1).padStart(10)}${String(r.failures).padStart(8)}  cpu ms/call ${Object.entries(
        r.cpuMsPerCall,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  for (const [k, v] of Object.entries(http.ratios)) console.log(`ratio ${k}: ${v.toFixed(2)}`);
  console.log(
    JSON.stringify({
      bench: 'cds',
      model: `${MODEL}@${meta.version}`,
      rows,
      httpRows: http.rows,
      ratios: { ...Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, +v.toFixed(3)])), ...http.ratios },
    }),
  );
  printDiagnosis(diagnosis);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
