/**
 * `TEMPORAL_MODE=server npm start`: the production Temporal server instead of the dev server, on
 * the engine's own Postgres (databases `temporal` and `temporal_visibility`), with the config
 * docker-compose.yml uses (docker/temporal-server.yaml, rendered by the server from environment
 * variables) and the same dynamic config. The real server creates no namespace and no search
 * attributes on its own, so this registers both, then waits until the frontend answers a query
 * on every search attribute. It has no UI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { PROJECT_ROOT } from '../platform/config';
import { freePortBelow32768 } from '../platform/ports';
import { ENGINE_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import type { RunningTemporal } from './stack';
import {
  ensureTemporalServerBinaries,
  postgresTarget,
  setupTemporalSchemas,
  temporalServerModuleDir,
  type PostgresTarget,
} from './temporal-server-setup';

type Say = (line: string) => void;

/** Settings changed from Temporal's defaults for this mode; each is in the README's table. */
export const SERVER_SETTINGS = {
  NUM_HISTORY_SHARDS: '4',
  SQL_MAX_CONNS: '12',
  SQL_VIS_MAX_CONNS: '4',
  retentionDays: 7,
} as const;

const SERVICE_PORTS = [
  'FRONTEND_MEMBERSHIP_PORT',
  'FRONTEND_HTTP_PORT',
  'HISTORY_GRPC_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'WORKER_GRPC_PORT',
  'WORKER_MEMBERSHIP_PORT',
] as const;

export interface ServerModeOptions {
  dataDir: string;
  logDir: string;
  /** The frontend's gRPC port (TEMPORAL_DEV_PORT); the other services take free ports. */
  port: number;
  /** The engine's own ports (API, MLLP, UI, metrics…), bound after the server starts: its services must not take them. */
  reservedPorts?: number[];
  databaseUrl: string;
  namespace: string;
  serverPath?: string;
  sqlToolPath?: string;
  say: Say;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The environment the server renders docker/temporal-server.yaml from: nothing else of ours leaks in. */
async function serverEnv(target: PostgresTarget, port: number, reserved: number[], dynamicConfig: string): Promise<NodeJS.ProcessEnv> {
  const ports: Record<string, string> = {};
  const taken = new Set<number>([port, ...reserved]);
  for (const name of SERVICE_PORTS) {
    const free = await freePortBelow32768(taken);
    taken.add(free);
    ports[name] = String(free);
  }
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DB: 'postgres12',
    POSTGRES_SEEDS: target.host,
    DB_PORT: String(target.port),
    POSTGRES_USER: target.user,
    POSTGRES_PWD: target.password,
    NUM_HISTORY_SHARDS: SERVER_SETTINGS.NUM_HISTORY_SHARDS,
    SQL_MAX_CONNS: SERVER_SETTINGS.SQL_MAX_CONNS,
    SQL_VIS_MAX_CONNS: SERVER_SETTINGS.SQL_VIS_MAX_CONNS,
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(port),
    ...ports,
    DYNAMIC_CONFIG_FILE_PATH: dynamicConfig,
  };
}

function lastLines(file: string, n = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Connects once the frontend answers, or fails early when the server process has exited. */
async function waitForFrontend(address: string, server: ChildProcess, logFile: string, timeoutMs: number): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null)
      throw new Error(`temporal-server exited (${server.exitCode ?? server.signalCode}); its log ends:\n${lastLines(logFile)}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (err) {
      lastError = err;
      await sleep(500);
    }
  }
  throw new Error(`the Temporal frontend on ${address} did not answer within ${timeoutMs / 1000} s (${String(lastError)}); see ${logFile}`);
}

const isCode = (err: unknown, code: number) => (err as { code?: number } | undefined)?.code === code;
const GRPC_ALREADY_EXISTS = 6;
const GRPC_NOT_FOUND = 5;

/** Registers the namespace and the engine's search attributes when missing (idempotent). */
export async function registerNamespace(connection: Connection, namespace: string, retentionDays: number): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (!isCode(err, GRPC_NOT_FOUND)) throw err;
    await connection.workflowService
      .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`) })
      .catch((e: unknown) => {
        if (!isCode(e, GRPC_ALREADY_EXISTS)) throw e;
      });
  }
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = ENGINE_SEARCH_ATTRIBUTES.filter((key) => !customAttributes?.[key.name]);
  if (!missing.length) return;
  const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}` as keyof typeof IndexedValueType]]),
    ),
  });
}

/** A list query naming every search attribute: it passes once the frontend's namespace cache has them all. */
export function probeQuery(): string {
  const sample: Record<string, string> = { KEYWORD: "''", BOOL: 'false', DATETIME: "'2000-01-01T00:00:00Z'" };
  return ENGINE_SEARCH_ATTRIBUTES.map((key) => `${key.name} = ${sample[key.type] ?? "''"}`).join(' OR ');
}

/** Registers, then waits until a query on all search attributes is accepted (the caches are 10 s behind). */
async function registerAndWait(connection: Connection, namespace: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      await registerNamespace(connection, namespace, SERVER_SETTINGS.retentionDays);
      await connection.workflowService.listWorkflowExecutions({ namespace, query: probeQuery(), pageSize: 1 });
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`namespace ${namespace} or its search attributes not ready within ${timeoutMs / 1000} s: ${String(err)}`);
      await sleep(1_000);
    }
  }
}

/** Builds (once), sets up the schemas, starts the server, registers; resolves when the engine can use it. */
export async function startTemporalServer(
  opts: ServerModeOptions,
): Promise<RunningTemporal & { /** What was done, with timings, for the start log. */ setup: string[] }> {
  const { say } = opts;
  // The server keeps its services' ports in smallint columns (cluster_membership).
  if (opts.port > 32_767)
    throw new Error(
      `TEMPORAL_DEV_PORT ${opts.port} is too high for TEMPORAL_MODE=server: the server stores ports as smallint (use one below 32768)`,
    );
  const binaries = await ensureTemporalServerBinaries({ serverPath: opts.serverPath, sqlToolPath: opts.sqlToolPath, say });
  const target = postgresTarget(opts.databaseUrl);
  const schemaStarted = Date.now();
  const setup = await setupTemporalSchemas({ sqlTool: binaries.sqlTool, moduleDir: await temporalServerModuleDir(), target, say });
  const serverStarted = Date.now();

  // The server reads <root>/<config>/<env>.yaml: the shared template, copied so DATA_DIR shows what ran.
  const configDir = path.join(opts.dataDir, 'temporal-server');
  mkdirSync(configDir, { recursive: true });
  copyFileSync(path.join(PROJECT_ROOT, 'docker', 'temporal-server.yaml'), path.join(configDir, 'clinical.yaml'));
  const dynamicConfig = path.join(configDir, 'dynamic-config.yaml');
  copyFileSync(path.join(PROJECT_ROOT, 'docker', 'temporal-dynamic-config.yaml'), dynamicConfig);
  const logFile = path.join(opts.logDir, 'temporal-server.log');
  const fd = openSync(logFile, 'a');
  const server = spawn(binaries.server, ['--root', configDir, '--config', '.', '--env', 'clinical', '--allow-no-auth', 'start'], {
    cwd: configDir,
    env: await serverEnv(target, opts.port, opts.reservedPorts ?? [], dynamicConfig),
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let stopping = false;
  let up = false;
  const exited = new Promise<void>((resolve) =>
    server.once('exit', (code, signal) => {
      if (up && !stopping) say(`temporal-server exited (${code ?? signal}) while the engine runs; see ${logFile}`);
      resolve();
    }),
  );
  const stop = async () => {
    stopping = true;
    if (server.exitCode !== null || server.signalCode !== null) return;
    server.kill('SIGTERM');
    // Within npm start's 10 s after Ctrl-C (the workers get 6 s first).
    const timer = setTimeout(() => server.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  const address = `127.0.0.1:${opts.port}`;
  try {
    const connection = await waitForFrontend(address, server, logFile, 180_000);
    try {
      await registerAndWait(connection, opts.namespace, 120_000);
    } finally {
      await connection.close();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  up = true;
  const seconds = (from: number, to: number) => `${((to - from) / 1000).toFixed(1)} s`;
  setup.push(`schemas ${seconds(schemaStarted, serverStarted)}, server up and registered ${seconds(serverStarted, Date.now())}`);
  return { address, stop, setup };
}
