/**
 * The engine as users run it, for benchmarks: `npm start` (workers/start.ts) as a child process
 * with its own DATA_DIR and free ports, or an engine already running (BENCH_API_URL + BENCH_DATA_DIR).
 * Gives the API's URL, the database (for the bench's own fixtures), a token minter on the
 * engine's secret, and the child's pids for CPU accounting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintToken, type Caller } from '../api/auth';
import { createDb, type Db } from '../db';
import { embeddedDatabaseUrl, parseConfig, PROJECT_ROOT } from '../platform/config';
import { freePort } from '../platform/ports';

export interface EngineProcess {
  apiUrl: string;
  /** host:port of the engine's Temporal frontend. */
  temporalAddress: string;
  dataDir: string;
  db: Db;
  token(caller: Caller): Promise<string>;
  /** The engine's processes by name (api, worker-clinical, worker-cds, temporal, postgres), for CPU per process. */
  pids(): Record<string, number[]>;
  stop(): Promise<void>;
}

/** Live processes with their parent and command line (Linux /proc). */
function processTable(): Array<{ pid: number; ppid: number; cmd: string }> {
  const rows: Array<{ pid: number; ppid: number; cmd: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      rows.push({ pid: Number(entry), ppid, cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ') });
    } catch {
      // gone meanwhile
    }
  }
  return rows;
}

/** All descendants of a pid, grouped by what they are. */
export function enginePids(root: number): Record<string, number[]> {
  const table = processTable();
  const found: Record<string, number[]> = { start: [root] };
  const walk = (pid: number, group?: string) => {
    for (const child of table.filter((p) => p.ppid === pid)) {
      const name = group ?? (child.cmd.includes('workers/clinical.ts') ? 'worker-clinical'
        : child.cmd.includes('workers/cds.ts') ? 'worker-cds'
          : child.cmd.includes('api/server.ts') ? 'api'
            : /temporal|server start/.test(child.cmd) ? 'temporal'
              : /postgres/.test(child.cmd) ? 'postgres' : 'other');
      (found[name] ??= []).push(child.pid);
      walk(child.pid, name === 'other' ? undefined : name);
    }
  };
  walk(root);
  return found;
}

/** Seconds of CPU (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100/s)
  } catch {
    return 0;
  }
}

export async function startEngineProcess(opts: { temporalMode?: 'dev' | 'server'; env?: NodeJS.ProcessEnv; say?: (line: string) => void } = {}): Promise<EngineProcess> {
  const say = opts.say ?? (() => undefined);
  if (process.env.BENCH_API_URL && process.env.BENCH_DATA_DIR) return attach(process.env.BENCH_API_URL, process.env.BENCH_TEMPORAL_ADDRESS ?? '127.0.0.1:7233', process.env.BENCH_DATA_DIR, undefined);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'clinical-bench-'));
  const [pgPort, temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', DATA_DIR: dataDir, TEMPORAL_MODE: opts.temporalMode ?? 'dev',
    EMBEDDED_PG_PORT: String(pgPort), TEMPORAL_DEV_PORT: String(temporalPort), TEMPORAL_UI_PORT: String(uiPort), API_PORT: String(apiPort), ...opts.env,
  };
  for (const key of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'AUTH_SECRET', 'PAYLOAD_KEY', 'CDS_DIGEST_SECRET', 'CLINICAL_TASK_QUEUE', 'WORKFLOW_BUNDLE_PATH', 'TEST_DATA_DIR']) delete env[key];
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/start.ts'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  say(`starting the engine (npm start, TEMPORAL_MODE=${env.TEMPORAL_MODE}) in ${dataDir}...`);
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('is up')) { clearInterval(timer); resolve(); }
    }, 200);
    child.once('exit', (code) => { clearInterval(timer); reject(new Error(`npm start exited with ${code}:\n${output.slice(-4000)}`)); });
  });
  say(output.split('\n').find((l) => l.includes('is up')) ?? 'engine is up');
  return attach(`http://127.0.0.1:${apiPort}`, `127.0.0.1:${temporalPort}`, dataDir, child, String(pgPort));
}

function attach(apiUrl: string, temporalAddress: string, dataDir: string, child: ChildProcess | undefined, embeddedPort?: string): EngineProcess {
  const config = parseConfig({ DATA_DIR: dataDir, NODE_ENV: 'development', EMBEDDED_PG_PORT: process.env.BENCH_PG_PORT ?? embeddedPort });
  const db = createDb(embeddedDatabaseUrl(config.EMBEDDED_PG_PORT), 32);
  return {
    apiUrl,
    temporalAddress,
    dataDir,
    db,
    token: (caller) => mintToken(config.AUTH_SECRET, caller),
    pids: () => (child?.pid ? enginePids(child.pid) : {}),
    async stop() {
      await db.destroy();
      if (!child) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => { child.once('exit', resolve); setTimeout(resolve, 60_000).unref(); });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
