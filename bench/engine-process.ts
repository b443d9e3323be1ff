/**
 * `npm start` as a child process with its own data folder and ports, for benchmarks and tests
 * that need the whole engine: with the Temporal dev server (`dev`) or the production Temporal
 * server on the embedded Postgres (`server`, TEMPORAL_MODE=server). Resolves once the banner is
 * printed, with the API's URL, the demo tokens and a stop().
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintToken, type Caller } from '../api/auth';
import { createDb, type Db } from '../db';
import { parseConfig, PROJECT_ROOT } from '../platform/config';
import { freePort, freePortBelow32768 } from '../platform/ports';
import { enginePids } from './process-cpu';

export type TemporalMode = 'dev' | 'server';

export interface EngineProcess {
  temporalMode: TemporalMode;
  baseUrl: string;
  /** host:port of the Temporal frontend, namespace `default`. */
  temporalAddress: string;
  /** The embedded Postgres (database `clinical`; `temporal` and `temporal_visibility` in server mode). */
  postgresUrl: string;
  dataDir: string;
  /** Demo bearer tokens by role (patient, registrar, doctor, lab, ops, admin). */
  tokens: Record<string, string>;
  /** From the start of the process to its banner, in seconds. */
  startSeconds: number;
  pid: number;
  /** The engine's database, for a bench's own fixtures (closed by stop()). */
  db: Db;
  /** A token for any caller, signed with the engine's secret. */
  token(caller: Caller): Promise<string>;
  /** The engine's processes by part (api, worker-clinical, worker-cds, temporal, postgres), for CPU per part. */
  pids(): Record<string, number[]>;
  /** Everything npm start printed so far. */
  output(): string;
  /** SIGTERM, waits for the orderly stop (SIGKILL after 90 s); removes a data folder it made. Resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface EngineProcessOptions {
  temporalMode: TemporalMode;
  /** Reuse a data folder (a restart); default a fresh temporary one, removed by stop(). */
  dataDir?: string;
  /** Extra environment (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
  /** How long to wait for the banner; a first server-mode run may build the server (minutes). */
  timeoutMs?: number;
}

/** Variables of the calling process that belong to another stack (a test run's), never this engine's. */
const FOREIGN = [
  'DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'AUTH_SECRET',
  'PAYLOAD_KEY',
  'CDS_DIGEST_SECRET',
  'CLINICAL_TASK_QUEUE',
  'WORKFLOW_BUNDLE_PATH',
  'TEST_DATA_DIR',
];

export async function startEngineProcess(opts: EngineProcessOptions): Promise<EngineProcess> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), `clinical-${opts.temporalMode}-`));
  // The server mode keeps its ports in smallint columns: its frontend port must be below 32768.
  const temporalPort = await freePortBelow32768();
  const [pgPort, uiPort, apiPort, mllpPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    ...opts.env,
    DATA_DIR: dataDir,
    TEMPORAL_MODE: opts.temporalMode,
    EMBEDDED_PG_PORT: String(pgPort),
    TEMPORAL_DEV_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    API_PORT: String(apiPort),
    API_HOST: '127.0.0.1',
    MLLP_PORT: String(mllpPort),
  };
  for (const key of FOREIGN) delete env[key];
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'local-stack/start.ts'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const opened: { db?: Db } = {};
  const stop = async (): Promise<number | null> => {
    await opened.db?.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      timer.unref();
      await exited;
      clearTimeout(timer);
    }
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    return child.exitCode;
  };

  const timeoutMs = opts.timeoutMs ?? 600_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (output.includes('Press Ctrl-C to stop.')) {
          clearInterval(timer);
          resolve();
        } else if (child.exitCode !== null || child.signalCode !== null || output.includes('Start failed')) {
          clearInterval(timer);
          reject(new Error(`npm start (TEMPORAL_MODE=${opts.temporalMode}) failed:\n${output}`));
        } else if (Date.now() - started > timeoutMs) {
          clearInterval(timer);
          reject(new Error(`npm start (TEMPORAL_MODE=${opts.temporalMode}) printed no banner within ${timeoutMs / 1000} s:\n${output}`));
        }
      }, 250);
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const tokens = JSON.parse(readFileSync(path.join(dataDir, 'demo-tokens.json'), 'utf8')) as Record<string, string>;
  const postgresUrl = `postgres://clinical:clinical@127.0.0.1:${pgPort}/clinical`;
  const db = createDb(postgresUrl, 32);
  opened.db = db;
  const { AUTH_SECRET } = parseConfig({ DATA_DIR: dataDir, NODE_ENV: 'development' });
  return {
    temporalMode: opts.temporalMode,
    baseUrl: `http://127.0.0.1:${apiPort}`,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    postgresUrl,
    dataDir,
    tokens,
    startSeconds: (Date.now() - started) / 1000,
    pid: child.pid!,
    db,
    token: (caller) => mintToken(AUTH_SECRET, caller),
    pids: () => enginePids(child.pid!),
    output: () => output,
    stop,
  };
}
