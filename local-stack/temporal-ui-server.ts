/**
 * The Temporal UI server (github.com/temporalio/ui-server, the Go module behind the
 * `temporalio/ui` image in docker-compose.yml) as a local process: built once with `go install`
 * and cached beside the Temporal CLI, started with a config file of its own. The tests run it with
 * OIDC sign-in at a provider and the API's /codec, as compose runs the image.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TOOLS_BIN_DIR } from './temporal-server-setup';

/** The same version as compose's `temporalio/ui` image; it builds with the Go here (newer ones ask for a newer Go). */
export const TEMPORAL_UI_SERVER_VERSION = 'v2.42.1';
const UI_SERVER_PACKAGE = 'github.com/temporalio/ui-server/v2/cmd/server';
const CACHED = path.join(TOOLS_BIN_DIR, 'temporal-ui-server');

export function goAvailable(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Where the binary is or would be found without building: TEMPORAL_UI_SERVER_PATH, else the cache. */
export function cachedTemporalUiServer(explicit = process.env.TEMPORAL_UI_SERVER_PATH): string | undefined {
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`TEMPORAL_UI_SERVER_PATH points at ${explicit}, which does not exist`);
    return explicit;
  }
  return existsSync(CACHED) ? CACHED : undefined;
}

/** The binary: TEMPORAL_UI_SERVER_PATH, else the cache, else `go install` into the cache (a minute or two, once). */
export async function ensureTemporalUiServer(say: (line: string) => void): Promise<string> {
  const found = cachedTemporalUiServer();
  if (found) return found;
  if (!goAvailable()) throw new Error('The Temporal UI server needs Go to be built (or TEMPORAL_UI_SERVER_PATH set)');
  say(`Building the Temporal UI server ${TEMPORAL_UI_SERVER_VERSION} with go install into ${TOOLS_BIN_DIR} (first run only)...`);
  // A GOBIN of its own (go names the binary `server`, as it names the Temporal server's build), on the
  // cache's file system so the rename below never crosses devices.
  mkdirSync(TOOLS_BIN_DIR, { recursive: true });
  const gobin = mkdtempSync(path.join(TOOLS_BIN_DIR, '.build-'));
  try {
    await goInstall(gobin);
    renameSync(path.join(gobin, 'server'), CACHED);
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
  return CACHED;
}

function goInstall(gobin: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let output = '';
    const child = spawn('go', ['install', `${UI_SERVER_PACKAGE}@${TEMPORAL_UI_SERVER_VERSION}`], {
      env: { ...process.env, GOBIN: gobin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install exited with ${code}: ${output.slice(-2000)}`))));
  });
}

export interface TemporalUiAuth {
  /** The provider's issuer URL (discovery at /.well-known/openid-configuration). */
  providerUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
}

export interface RunningTemporalUi {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the UI server on 127.0.0.1:`port` for `temporalAddress`: with `auth` the UI signs its users
 * in at the provider (callback `<url>/auth/sso/callback`); with `codecEndpoint` the browser decodes
 * payloads there, passing the signed-in user's access token.
 */
export async function startTemporalUi(opts: {
  binary: string;
  port: number;
  temporalAddress: string;
  auth?: TemporalUiAuth;
  codecEndpoint?: string;
}): Promise<RunningTemporalUi> {
  const url = `http://127.0.0.1:${opts.port}`;
  const root = mkdtempSync(path.join(os.tmpdir(), 'temporal-ui-'));
  // The fields docker.yaml fills from TEMPORAL_* in the image; JSON is YAML.
  const config = {
    temporalGrpcAddress: opts.temporalAddress,
    host: '127.0.0.1',
    port: opts.port,
    enableUi: true,
    defaultNamespace: 'default',
    refreshInterval: '0s',
    cors: { allowOrigins: [url], cookieInsecure: true },
    auth: opts.auth
      ? {
          enabled: true,
          providers: [{ label: 'sso', type: 'oidc', ...opts.auth, issuerUrl: '', callbackUrl: `${url}/auth/sso/callback` }],
        }
      : { enabled: false },
    codec: { endpoint: opts.codecEndpoint ?? '', passAccessToken: Boolean(opts.auth && opts.codecEndpoint), includeCredentials: false },
  };
  writeFileSync(path.join(root, 'local.yaml'), JSON.stringify(config, null, 2), { mode: 0o600 });
  const child: ChildProcess = spawn(opts.binary, ['--root', root, '--config', '.', '--env', 'local', 'start'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        rmSync(root, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGTERM');
    });
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the Temporal UI server exited: ${out.slice(-2000)}`);
    const up = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { url, output: () => out, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`the Temporal UI server did not answer at ${url}: ${out.slice(-2000)}`);
}
