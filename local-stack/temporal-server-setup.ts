/**
 * What `TEMPORAL_MODE=server` needs before the production Temporal server can start: the
 * `temporal-server` and `temporal-sql-tool` binaries (built once with `go install`, cached next to
 * the CLI), the server module's schema scripts (from the Go module cache), and the `temporal` and
 * `temporal_visibility` databases at the schema version those scripts reach. docker-compose.yml's
 * `temporal-schema` service runs the same three tool steps.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const SERVER_MODULE = 'go.temporal.io/server';
type Say = (line: string) => void;

/** Where the CLI, the server and the SQL tool are cached between runs (and by .ci/run). */
export const TOOLS_BIN_DIR = path.join(os.homedir(), '.cache', 'clinical-engine', 'bin');

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
}

/** The two databases the server needs and their folder under schema/postgresql/v12. */
export const TEMPORAL_DATABASES = [
  { name: 'temporal', schema: 'temporal' },
  { name: 'temporal_visibility', schema: 'visibility' },
] as const;

function which(binary: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${path.basename(command)} ${args.join(' ')} exited with ${code}: ${output.slice(-2000)}`)),
    );
  });
}

/**
 * One binary: its explicit path, else the cache, else PATH; else `go install` into the cache
 * (go names it after its package folder, so it is renamed to `name`).
 */
async function ensureBinary(name: string, pkg: string, explicit: string | undefined, envName: string, say: Say): Promise<string> {
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`${envName} points at ${explicit}, which does not exist`);
    return explicit;
  }
  const cached = path.join(TOOLS_BIN_DIR, name);
  if (existsSync(cached)) return cached;
  const found = which(name);
  if (found) return found;
  if (!which('go')) throw new Error(`TEMPORAL_MODE=server needs ${name}: set ${envName}, or install Go so it can be built`);
  say(`Building ${name} ${TEMPORAL_SERVER_VERSION} with go install into ${TOOLS_BIN_DIR} (first run only; takes minutes)...`);
  const started = Date.now();
  await run('go', ['install', `${SERVER_MODULE}/${pkg}@${TEMPORAL_SERVER_VERSION}`], { ...process.env, GOBIN: TOOLS_BIN_DIR });
  renameSync(path.join(TOOLS_BIN_DIR, path.basename(pkg)), cached);
  say(`${name} built in ${Math.round((Date.now() - started) / 1000)} s.`);
  return cached;
}

export async function ensureTemporalServerBinaries(opts: {
  serverPath?: string;
  sqlToolPath?: string;
  say: Say;
}): Promise<TemporalServerBinaries> {
  // One after the other: both builds share Go's build cache, the second reuses most of the first.
  const server = await ensureBinary('temporal-server', 'cmd/server', opts.serverPath, 'TEMPORAL_SERVER_PATH', opts.say);
  const sqlTool = await ensureBinary('temporal-sql-tool', 'cmd/tools/sql', opts.sqlToolPath, 'TEMPORAL_SQL_TOOL_PATH', opts.say);
  return { server, sqlTool };
}

/** The server module's source (schema scripts), from the Go module cache, downloaded if missing. */
export async function temporalServerModuleDir(): Promise<string> {
  // Go's default module cache when go itself is not on PATH (binaries given, sources downloaded earlier).
  const modcache =
    process.env.GOMODCACHE ||
    (which('go') ? execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim() : path.join(os.homedir(), 'go', 'pkg', 'mod'));
  const cached = modcache && path.join(modcache, `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`);
  if (cached && existsSync(path.join(cached, 'schema'))) return cached;
  if (!which('go'))
    throw new Error(
      `TEMPORAL_MODE=server needs the schema scripts of ${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}: install Go (it downloads them)`,
    );
  const out = await run('go', ['mod', 'download', '-json', `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`], process.env);
  return (JSON.parse(out) as { Dir: string }).Dir;
}

/** `v1.18` and the like: the highest versioned folder is the version update-schema reaches. */
export function latestSchemaVersion(versionedDir: string): string {
  const versions = readdirSync(versionedDir)
    .filter((d) => /^v\d+\.\d+$/.test(d))
    .map((d) => d.slice(1));
  const key = (v: string) => v.split('.').map(Number) as [number, number];
  versions.sort((a, b) => key(a)[0] - key(b)[0] || key(a)[1] - key(b)[1]);
  const latest = versions.at(-1);
  if (!latest) throw new Error(`no versioned schema folders in ${versionedDir}`);
  return latest;
}

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function postgresTarget(databaseUrl: string): PostgresTarget {
  const url = new URL(databaseUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

async function withClient<T>(target: PostgresTarget, database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...target, database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The schema version a database is at, or undefined when it or its version table is missing. */
async function schemaVersion(target: PostgresTarget, database: string): Promise<string | undefined> {
  const exists = await withClient(target, 'postgres', (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]));
  if (!exists.rowCount) return undefined;
  return withClient(target, database, async (c) => {
    const found = await c
      .query<{ curr_version: string }>('SELECT curr_version FROM schema_version WHERE version_partition = 0 AND db_name = $1', [database])
      .catch(() => undefined);
    return found?.rows[0]?.curr_version;
  });
}

/**
 * Creates both databases and brings their schemas to the scripts' latest version with the SQL
 * tool: create-database, setup-schema -v 0.0, update-schema -d <versioned>. Skips a database that
 * is there already at that version (a restart). Returns what it did, per database.
 */
export async function setupTemporalSchemas(opts: {
  sqlTool: string;
  moduleDir: string;
  target: PostgresTarget;
  say: Say;
}): Promise<string[]> {
  const { sqlTool, moduleDir, target, say } = opts;
  const done: string[] = [];
  for (const db of TEMPORAL_DATABASES) {
    const versioned = path.join(moduleDir, 'schema', 'postgresql', 'v12', db.schema, 'versioned');
    const latest = latestSchemaVersion(versioned);
    const current = await schemaVersion(target, db.name);
    if (current === latest) {
      done.push(`${db.name} at ${latest}`);
      continue;
    }
    say(`Setting up the ${db.name} schema (${current ?? 'new'} → ${latest}) with temporal-sql-tool...`);
    // The tool reads its connection from SQL_* variables (no password on the command line).
    const env = {
      ...process.env,
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: target.host,
      SQL_PORT: String(target.port),
      SQL_USER: target.user,
      SQL_PASSWORD: target.password,
      SQL_DATABASE: db.name,
    };
    if (
      current === undefined &&
      !(await withClient(target, 'postgres', (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]))).rowCount
    ) {
      await run(sqlTool, ['create-database', '--defaultdb', 'postgres'], env);
    }
    await run(sqlTool, ['setup-schema', '-v', '0.0'], env);
    await run(sqlTool, ['update-schema', '-d', versioned], env);
    done.push(`${db.name} ${current ?? 'new'} → ${latest}`);
  }
  return done;
}
