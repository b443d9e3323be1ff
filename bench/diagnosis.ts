/**
 * Diagnosis-suggestions benchmark (`npm run bench:diagnosis`; also the last section of `npm run bench:cds`):
 *  (a) the cds worker's suggestDiagnoses in-process (checks, batcher, session.run, ranking) at 1 and 16 clients;
 *  (b) POST /diagnosis-suggestions through the API in-process: the worker's scoring endpoint over
 *      loopback HTTP and the stored row in Postgres, at 1 and 16 clients;
 *  (c) Python onnxruntime on the same texts (models/bench_diagnosis.py), one text per call, against Node's bare
 *      session.run on the same texts, and their ratio.
 * Texts: the 200 dev texts of models/golden/diagnosis-suggestions-parity.json, cycled. Goals: p50 ≤ 20 ms at 1 client, ≥ 200/s at 16.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { createDiagnosisActivities, loadDiagnosisModel } from '../activities/diagnosis';
import { createApp } from '../api/app';
import { mintToken } from '../api/auth';
import { createDb } from '../db';
import { parseConfig, PROJECT_ROOT } from '../platform/config';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { connectClient } from '../platform/temporal';
import { serveInference } from '../workers/cds-inference';
import { percentile, startBenchStack } from './stack';

const MODELS_DIR = path.join(PROJECT_ROOT, 'models');
const BATCH = { maxBatchSize: 32, maxWaitMs: 2 };

export interface DiagnosisRow {
  path: string;
  clients: number;
  n: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

async function load(total: number, clients: number, fn: (i: number) => Promise<boolean>) {
  const lat: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        if (!(await fn(i))) failures++;
        lat.push(performance.now() - t0);
      }
    }),
  );
  return { lat, ms: performance.now() - started, failures };
}

const row = (p: string, clients: number, r: Awaited<ReturnType<typeof load>>): DiagnosisRow => ({
  path: p,
  clients,
  n: r.lat.length,
  perSecond: Math.round((r.lat.length * 1000) / r.ms),
  p50Ms: +percentile(r.lat, 50).toFixed(2),
  p99Ms: +percentile(r.lat, 99).toFixed(2),
  failures: r.failures,
});

/** Runs the three sections; with a stack already started (bench:cds), pass startStack false. */
export async function benchDiagnosis(opts: { startStack?: boolean } = {}) {
  const texts = (
    JSON.parse(readFileSync(path.join(MODELS_DIR, 'golden', 'diagnosis-suggestions-parity.json'), 'utf8')) as {
      cases: Array<{ text: string }>;
    }
  ).cases.map((c) => c.text);
  const model = await loadDiagnosisModel(MODELS_DIR, { intraOpThreads: 1 });
  const { suggestDiagnoses } = createDiagnosisActivities({ model, batch: BATCH });
  const rows: DiagnosisRow[] = [];

  // Like for like with Python: one text per session.run, no batcher, no checks.
  const feeds = texts.map((t) => ({ [model.meta.inputName]: new ort.Tensor('string', [t], [1, 1]) }));
  for (let i = 0; i < 50; i++) await model.session.run(feeds[i % feeds.length]!);
  rows.push(
    row('node session.run, one text per call', 1, await load(1000, 1, async (i) => !!(await model.session.run(feeds[i % feeds.length]!)))),
  );

  await load(100, 4, async (i) => !!(await suggestDiagnoses({ text: texts[i % texts.length]! })));
  for (const [clients, n] of [
    [1, 400],
    [16, 2000],
  ] as const) {
    rows.push(
      row(
        'worker suggestDiagnoses in-process',
        clients,
        await load(n, clients, async (i) => !!(await suggestDiagnoses({ text: texts[i % texts.length]! }))),
      ),
    );
  }

  const stack = opts.startStack === false ? undefined : await startBenchStack();
  const port = await freePort();
  const config = parseConfig({ ...process.env, CDS_DIAGNOSIS_SUGGESTIONS: 'on', CDS_INFERENCE_PORT: String(port) });
  const endpoint = await serveInference({
    host: '127.0.0.1',
    port,
    secret: config.CDS_INFERENCE_SECRET,
    maxPending: config.CDS_INFERENCE_MAX_PENDING,
    scoreModel: () => Promise.reject(new Error('not benchmarked')),
    suggestDiagnoses,
  });
  const db = createDb(config.DATABASE_URL!, 8);
  const temporal = await connectClient(config);
  const app = createApp({ config, db, temporal, logger: createLogger('bench', 'silent') });
  const token = await mintToken(config.AUTH_SECRET, { id: 'bench-doctor', role: 'doctor' });
  const call = async (i: number) => {
    const res = await app.request('/diagnosis-suggestions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ text: texts[i % texts.length] }),
    });
    await res.arrayBuffer();
    return res.status === 200;
  };
  await load(100, 4, call);
  for (const [clients, n] of [
    [1, 300],
    [16, 1500],
  ] as const)
    rows.push(row('POST /diagnosis-suggestions (API + endpoint + Postgres)', clients, await load(n, clients, call)));
  await endpoint.close();
  await db.destroy();
  await temporal.connection.close();
  await stack?.stop();

  const py = JSON.parse(
    execFileSync('python3', [path.join(MODELS_DIR, 'bench_diagnosis.py'), '--n', '1000', '--threads', '1'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()!,
  ) as { callsPerSecond: number; p50Ms: number; p99Ms: number };
  const raw = rows[0]!;
  return {
    model: `${model.meta.id}@${model.meta.version}`,
    rows,
    python: py,
    ratioNodeToPython1Client: +(raw.perSecond / py.callsPerSecond).toFixed(2),
  };
}

export function printDiagnosis(r: Awaited<ReturnType<typeof benchDiagnosis>>) {
  console.log(
    `\nDiagnosis suggestions: ${r.model}, 200 dev texts cycled, batching ${BATCH.maxBatchSize} / ${BATCH.maxWaitMs} ms, 1 intra-op thread, ${require('node:os').cpus().length} CPUs`,
  );
  console.log(
    `${'path'.padEnd(58)}${'clients'.padStart(8)}${'n'.padStart(7)}${'calls/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'failed'.padStart(8)}`,
  );
  for (const x of r.rows)
    console.log(
      `${x.path.padEnd(58)}${String(x.clients).padStart(8)}${String(x.n).padStart(7)}${String(x.perSecond).padStart(10)}${x.p50Ms.toFixed(2).padStart(10)}${x.p99Ms.toFixed(2).padStart(10)}${String(x.failures).padStart(8)}`,
    );
  console.log(
    `${'python onnxruntime, one text per call'.padEnd(58)}${'1'.padStart(8)}${'1000'.padStart(7)}${String(Math.round(r.python.callsPerSecond)).padStart(10)}${r.python.p50Ms.toFixed(2).padStart(10)}${r.python.p99Ms.toFixed(2).padStart(10)}`,
  );
  console.log(`ratio node session.run / python session.run (one text per call): ${r.ratioNodeToPython1Client}`);
  console.log(JSON.stringify({ bench: 'diagnosis-suggestions', ...r }));
}

if (require.main === module) {
  benchDiagnosis().then(
    (r) => {
      printDiagnosis(r);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
