/**
 * `npm run bench:cds`, section (d): CDS Hooks calls end to end over HTTP through the API route
 * (`POST /cds-services/diabetes-progression` with a full prefetch, a new hookInstance per call),
 * against the processes `npm start` runs: the API, the cds worker and the clinical worker as
 * child processes on the bench stack (Postgres + Temporal dev server). Two API processes: one
 * with the fast path (the cds worker's scoring endpoint, no workflow), one with it off (a
 * cdsAssessmentWorkflow per call), so both are measured in one run, at 1 and 64 clients.
 *
 * The load is a bounded loop over fetch (keep-alive): autocannon is not installed here, and each
 * request needs its own body (a fresh hookInstance, or the call is a repeat answered from the row
 * stored first). Swap in autocannon with per-request bodies when it is available.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mintToken } from '../api/auth';
import { PROJECT_ROOT, type Config } from '../platform/config';
import { freePort } from '../platform/ports';

export interface HttpRow {
  path: string;
  mode: string;
  n: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** CPU ms per call of each process during the timed run (Linux /proc; the load generator is this process). */
  cpuMsPerCall: Record<string, number>;
}

/** User + system CPU ms of a process so far (Linux), 0 where /proc is not there. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

const CLIENTS = [1, 64] as const;
const [FAST, SLOW] = ['fast path (no workflow)', 'workflow path'];
/** Calls per (path, clients): enough for ~15 s of load at the rates each path reaches. */
const CALLS: Record<'fast' | 'workflow', Record<(typeof CLIENTS)[number], number>> = {
  fast: { 1: 600, 64: 6000 },
  workflow: { 1: 100, 64: 600 },
};

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
const obs = (loinc: string, value: number, unit: string) => ({
  resource: {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
    valueQuantity: { value, unit },
    effectiveDateTime: daysAgo(3),
  },
});
const bundle = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'searchset', entry });

/** A patient-view call with a full prefetch; glucose and BMI vary with i so the scores differ. */
function hookCall(i: number): string {
  return JSON.stringify({
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/bench', patientId: `bench-${i % 500}` },
    prefetch: {
      patient: {
        resourceType: 'Patient',
        id: `bench-${i % 500}`,
        gender: i % 2 ? 'male' : 'female',
        birthDate: `${1950 + (i % 40)}-03-14`,
      },
      labs: bundle([
        obs('2093-3', 5.5, 'mmol/L'),
        obs('13457-7', 3.1, 'mmol/L'),
        obs('2085-9', 1.1, 'mmol/L'),
        obs('2571-8', 2.0, 'mmol/L'),
        obs('2345-7', 5 + (i % 30) / 10, 'mmol/L'),
        obs('2160-0', 90, 'umol/L'),
      ]),
      vitals: bundle([obs('39156-5', 24 + (i % 12), 'kg/m2'), obs('8480-6', 135, 'mm[Hg]'), obs('8462-4', 85, 'mm[Hg]')]),
    },
  });
}

/**
 * CPU ms so far of the stack's Postgres (postmaster and its backends, from the postmaster.pid of
 * the bench stack's data folder) and Temporal dev server (the process serving TEMPORAL_ADDRESS's
 * port). Backends that exit between two readings take their CPU with them: a lower bound.
 */
function stackCpuMs(): Record<string, number> {
  try {
    const postmaster = Number(readFileSync(path.join(process.env.TEST_DATA_DIR!, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const port = process.env.TEMPORAL_ADDRESS!.split(':')[1]!;
    let postgres = cpuMs(postmaster);
    let temporal = 0;
    for (const pid of readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)) {
      try {
        const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
        if (ppid === postmaster) postgres += cpuMs(pid);
        else if (
          /start-dev/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')) &&
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(port)
        )
          temporal += cpuMs(pid);
      } catch {
        // the process ended while we looked
      }
    }
    return { postgres, temporal };
  } catch {
    return {};
  }
}

/** BENCH_CPU_PROF=<dir>: each child writes V8 CPU profiles (one per thread) into <dir>/<name> when it exits. */
function child(name: string, file: string, env: NodeJS.ProcessEnv): ChildProcess {
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.join(process.env.BENCH_CPU_PROF, name)] : [];
  const proc = spawn(process.execPath, [...prof, '--import', 'tsx', path.join(PROJECT_ROOT, file)], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  proc.stderr!.on('data', (d: Buffer) => {
    if (/Error|error:/.test(d.toString())) process.stderr.write(`[${name}] ${d}`);
  });
  return proc;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`bench: ${what} not ready after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function summarise(
  pathName: string,
  clients: number,
  lat: number[],
  ms: number,
  failures: number,
  cpuMsPerCall: Record<string, number>,
): HttpRow {
  const s = [...lat].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return {
    path: pathName,
    mode: `${clients} client${clients > 1 ? 's' : ''}`,
    n: lat.length,
    perSecond: Math.round((lat.length * 1000) / ms),
    p50Ms: +q(0.5).toFixed(2),
    p99Ms: +q(0.99).toFixed(2),
    failures,
    cpuMsPerCall,
  };
}

/** `total` calls with `clients` in flight; every answer must be 200 with a scored model card. */
async function load(
  url: string,
  token: string,
  total: number,
  clients: number,
  offset: number,
): Promise<{ lat: number[]; ms: number; failures: number }> {
  const lat: number[] = [];
  let next = 0;
  let failures = 0;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const body = hookCall(offset + next++);
        const t0 = performance.now();
        const res = await fetch(url, { method: 'POST', headers, body });
        const json = (await res.json()) as { cards?: Array<{ summary: string }> };
        lat.push(performance.now() - t0);
        if (res.status !== 200 || !json.cards?.[0]?.summary.startsWith('Diabetes progression:')) failures++;
      }
    }),
  );
  return { lat, ms: performance.now() - started, failures };
}

/** Runs section (d) on the bench stack (its addresses in process.env); returns rows and the fast/workflow ratios. */
export async function benchCdsHooksHttp(config: Config): Promise<{ rows: HttpRow[]; ratios: Record<string, number> }> {
  const [fastPort, workflowPort, inferencePort] = [await freePort(), await freePort(), await freePort()];
  const secrets = {
    AUTH_SECRET: config.AUTH_SECRET,
    PAYLOAD_KEY: config.PAYLOAD_KEY,
    CDS_DIGEST_SECRET: config.CDS_DIGEST_SECRET,
    CDS_INFERENCE_SECRET: config.CDS_INFERENCE_SECRET,
  };
  const env = {
    ...process.env,
    ...secrets,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DEMO_LAB_ORDERS: 'off',
    DATA_DIR: process.env.TEST_DATA_DIR,
    MLLP_PORT: '0',
  };
  const procs = {
    'worker-cds': child('worker-cds', 'workers/cds.ts', { ...env, CDS_INFERENCE_PORT: String(inferencePort) }),
    'worker-clinical': child('worker-clinical', 'workers/clinical.ts', env),
    'api-fast': child('api-fast', 'api/server.ts', { ...env, API_PORT: String(fastPort), CDS_INFERENCE_PORT: String(inferencePort) }),
    'api-workflow': child('api-workflow', 'api/server.ts', { ...env, API_PORT: String(workflowPort), CDS_INFERENCE_PORT: '0' }),
  };
  const children = Object.values(procs);
  const cpuNow = (): Record<string, number> => ({
    ...Object.fromEntries(Object.entries(procs).map(([name, p]) => [name, cpuMs(p.pid)])),
    ...stackCpuMs(),
    loadgen: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  });
  const token = await mintToken(config.AUTH_SECRET, { id: 'bench-doctor', role: 'doctor' });
  const urls = {
    fast: `http://127.0.0.1:${fastPort}/cds-services/diabetes-progression`,
    workflow: `http://127.0.0.1:${workflowPort}/cds-services/diabetes-progression`,
  };
  const rows: HttpRow[] = [];
  try {
    // Ready when each API answers a scored card (the workflow one needs the clinical worker's bundle).
    for (const url of Object.values(urls)) await until(url, async () => (await load(url, token, 1, 1, 0)).failures === 0);
    let offset = 1_000;
    for (const [name, label] of [
      ['fast', FAST],
      ['workflow', SLOW],
    ] as const) {
      for (const clients of CLIENTS) {
        await load(urls[name], token, Math.min(200, CALLS[name][clients] / 4), clients, (offset += 100_000)); // warm-up
        const before = cpuNow();
        const r = await load(urls[name], token, CALLS[name][clients], clients, (offset += 100_000));
        const after = cpuNow();
        const perCall = Object.fromEntries(
          Object.keys(after)
            .filter((k) => after[k]! > before[k]!)
            .map((k) => [k, +((after[k]! - before[k]!) / r.lat.length).toFixed(2)]),
        );
        rows.push(summarise(`HTTP CDS Hooks, ${label}`, clients, r.lat, r.ms, r.failures, perCall));
      }
    }
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
  }
  const ratios: Record<string, number> = {};
  for (const clients of CLIENTS) {
    const row = (label: string) => rows.find((r) => r.path.endsWith(label) && r.mode.startsWith(`${clients} `))!;
    const [fast, slow] = [row(FAST), row(SLOW)];
    ratios[`HTTP fast / workflow path, ${clients} client(s), calls/s`] = +(fast.perSecond / slow.perSecond).toFixed(2);
    ratios[`HTTP workflow / fast path, ${clients} client(s), p50`] = +(slow.p50Ms / fast.p50Ms).toFixed(2);
  }
  return { rows, ratios };
}
