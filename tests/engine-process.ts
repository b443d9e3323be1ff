/**
 * `npm start` as a user runs it, for tests and benches: a real child process (local-stack/start.ts)
 * with its own data folder and free ports, its demo tokens read from the file it writes, and
 * helpers that find its supervised children (and the Postgres and Temporal dev server it started)
 * by their command lines in /proc, so a fault run can kill, stop or restart each of them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../platform/config';
import { freePort } from '../platform/ports';

type Json = Record<string, any>;

/** The live child processes of a pid, with their command lines (Linux /proc). */
export function childrenOf(pid: number): Array<{ pid: number; cmd: string }> {
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== pid || fields[0] === 'Z') continue;
      found.push({ pid: Number(entry), cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ') });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The pid of parent's live child whose command line contains `marker`. */
export const childRunning = (parent: number, marker: string) => childrenOf(parent).find((c) => c.cmd.includes(marker))?.pid;
export const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
/** A process's argv (argv[0] the executable). */
export const argvOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
export const jwtPayload = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Json;

export const CHILD_MARKERS = {
  clinical: 'workers/clinical.ts',
  cds: 'workers/cds.ts',
  api: 'api/server.ts',
  temporal: 'start-dev',
  postgres: 'native/bin/postgres',
} as const;

export interface EngineProcess {
  child: ChildProcess;
  dataDir: string;
  apiUrl: string;
  databaseUrl: string;
  temporalAddress: string;
  ports: { pg: number; temporal: number; ui: number; api: number };
  tokens: Record<string, string>;
  /** Everything npm start printed so far. */
  output(): string;
  running(): boolean;
  /** The pid of a supervised child (or Postgres / the dev server), if running now. */
  pidOf(part: keyof typeof CHILD_MARKERS): number | undefined;
  /** How many times a worker's log says it started polling. */
  workerStarts(name: 'worker-clinical' | 'worker-cds'): number;
  /** Cleanups for parts started again outside npm start (a fault run's Postgres or dev server), run by stop(). */
  adopted: Array<() => void>;
  /** SIGTERM and wait (bounded); removes the data folder unless keepData. */
  stop(opts?: { keepData?: boolean }): Promise<number | null>;
}

/** Starts `npm start` (node local-stack/start.ts) with its own DATA_DIR and ports; resolves once the banner printed. */
type StartOptions = { dataDir?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number };

/**
 * npm start on free ports. Ports are picked here and bound by npm start's children a little later;
 * a parallel suite can bind one in between. A start refused for a busy port is tried again on new ports.
 */
export async function startEngineProcess(opts: StartOptions = {}): Promise<EngineProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEngineOnce(opts);
    } catch (err) {
      const busy = /is busy|is in use|EADDRINUSE/.test(String(err));
      if (!busy || attempt >= 3) throw err;
    }
  }
}

async function startEngineOnce(opts: StartOptions): Promise<EngineProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'clinical-engine-'));
  const ports = { pg: await freePort(), temporal: await freePort(), ui: await freePort(), api: await freePort(), mllp: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(ports.pg),
    TEMPORAL_DEV_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    API_PORT: String(ports.api),
    MLLP_PORT: String(ports.mllp),
    ...opts.env,
  };
  // A test run's own stack and secrets are not this engine's.
  for (const key of [
    'DATABASE_URL',
    'TEMPORAL_ADDRESS',
    'AUTH_SECRET',
    'PAYLOAD_KEY',
    'CDS_DIGEST_SECRET',
    'CLINICAL_TASK_QUEUE',
    'WORKFLOW_BUNDLE_PATH',
    'TEST_DATA_DIR',
  ]) {
    if (!opts.env || !(key in opts.env)) delete env[key];
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'local-stack/start.ts'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + (opts.timeoutMs ?? 240_000);
  // The banner's last line: it is printed line by line, and callers read the lines between.
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (!running()) throw new Error(`npm start exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`npm start printed no banner in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // The banner waits for the API only; the workers build their bundle and start the demo's processes after it.
  const logOf = (name: string) => {
    try {
      return readFileSync(path.join(dataDir, 'logs', `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  };
  // A fresh demo city logs its lab orders started; on data kept from an earlier run nothing is logged, so 10 s after ready will do.
  const workersDeadline = Date.now() + 180_000;
  let readySince = 0;
  while (Date.now() < workersDeadline && running()) {
    const clinical = logOf('worker-clinical');
    const ready = clinical.includes('"msg":"worker started"') && logOf('worker-cds').includes('"msg":"worker started"');
    readySince = ready ? readySince || Date.now() : 0;
    if (ready && (env.DEMO_LAB_ORDERS === 'off' || /demo lab orders (not )?started/.test(clinical) || Date.now() - readySince > 10_000))
      break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const tokens = JSON.parse(readFileSync(path.join(dataDir, 'demo-tokens.json'), 'utf8')) as Record<string, string>;
  const adopted: Array<() => void> = [];
  return {
    child,
    dataDir,
    ports,
    tokens,
    running,
    adopted,
    apiUrl: `http://127.0.0.1:${ports.api}`,
    databaseUrl: `postgres://clinical:clinical@127.0.0.1:${ports.pg}/clinical`,
    temporalAddress: `127.0.0.1:${ports.temporal}`,
    output: () => output,
    pidOf: (part) => childRunning(child.pid!, CHILD_MARKERS[part]),
    workerStarts: (name) => logOf(name).split('"msg":"worker started"').length - 1,
    async stop(stopOpts = {}) {
      let code: number | null = child.exitCode;
      if (running()) {
        child.kill('SIGTERM');
        code = await new Promise<number | null>((resolve) => {
          child.once('exit', (c) => resolve(c));
          setTimeout(() => resolve(null), 60_000).unref();
        });
      }
      for (const cleanup of adopted.splice(0)) {
        try {
          cleanup();
        } catch {
          /* already gone */
        }
      }
      if (!stopOpts.keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
