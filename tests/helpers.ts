/**
 * What integration tests share: the run's config, a database handle, a Temporal client, both
 * workers running in-process on the bundle built once by the global setup, and the API app
 * to call with `app.request()`.
 */
import { randomUUID } from 'node:crypto';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createApp } from '../api/app';
import { mintToken, type Caller, type Role } from '../api/auth';
import { loadModelRegistry, type ModelRegistry } from '../activities/cds-models';
import { parseConfig, type Config } from '../platform/config';
import { createDb, type Db } from '../db';
import { createLogger } from '../platform/logger';
import { connectClient, temporalAddress } from '../platform/temporal';
import { freePort } from '../platform/ports';
import { cdsActivitiesFor, createCdsWorker, diagnosisActivitiesFor, MODELS_DIR, serveCdsInference } from '../workers/cds';
import { createClinicalWorker } from '../workers/clinical';
import { startWorkerRelay, type OutboxRelay } from '../workers/outbox-relay';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig({ ...process.env, NODE_ENV: 'test', DATA_DIR: process.env.TEST_DATA_DIR, ...overrides });
}

export interface TestEngine {
  config: Config;
  db: Db;
  client: Client;
  registry: ModelRegistry;
  app: ReturnType<typeof createApp>;
  token(role: Role, extra?: Partial<Caller>): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts both workers and the API app against the run's stack. Call stop() in afterAll.
 * Each engine gets its own clinical task queue, so a test file's workflows run on its own worker
 * and never wait on another file's worker that has already stopped.
 */
export async function startTestEngine(
  opts: { clinicalTaskQueue?: string; clinicalWorker?: boolean; configOverrides?: Record<string, string> } = {},
): Promise<TestEngine> {
  quietRuntime();
  // The cds worker's scoring endpoint on a free port, as npm start runs it: CDS Hooks calls take the fast path.
  const config = testConfig({
    CLINICAL_TASK_QUEUE: opts.clinicalTaskQueue ?? `clinical-test-${randomUUID().slice(0, 8)}`,
    CDS_INFERENCE_PORT: String(await freePort()),
    ...opts.configOverrides,
  });
  const db = createDb(config.DATABASE_URL!, 5);
  const client = await connectClient(config);
  const connection = await NativeConnection.connect({ address: temporalAddress(config) });
  const registry = await loadModelRegistry(MODELS_DIR);
  // With CDS_DIAGNOSIS_SUGGESTIONS=on in configOverrides, the cds worker loads the diagnosis model too.
  const cdsActivities = cdsActivitiesFor(config, registry, await diagnosisActivitiesFor(config));
  const workers: Worker[] = [await createCdsWorker({ connection, config, registry, activities: cdsActivities })];
  const inference = await serveCdsInference(config, cdsActivities);
  if (opts.clinicalWorker !== false) {
    workers.push(await createClinicalWorker({ connection, config, db, workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! } }));
  }
  const running = workers.map((w) => w.run());
  // The clinical worker drains the outbox beside its workflows, as npm start runs it.
  const relay: OutboxRelay | undefined =
    opts.clinicalWorker === false
      ? undefined
      : startWorkerRelay({ connection, config, db, databaseUrl: config.DATABASE_URL!, logger: createLogger('test', 'silent') });
  const app = createApp({ config, db, temporal: client, logger: createLogger('test', 'silent') });
  return {
    config,
    db,
    client,
    registry,
    app,
    token: (role, extra = {}) => mintToken(config.AUTH_SECRET, { id: `test-${role}`, role, ...extra }),
    async stop() {
      await relay?.stop();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await inference?.close();
      await connection.close();
      await client.connection.close();
      await db.destroy();
    },
  };
}

/** JSON request helper for `app.request()`. */
export function jsonRequest(method: string, token: string | undefined, body?: unknown): RequestInit {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) };
}

let runtimeInstalled = false;
/** Worker logs at ERROR only: business refusals are logged as activity failures at WARN, and tests make many. */
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed by an earlier engine in this jest worker
  }
}

/** Polls until check() returns a value (not undefined/false), or fails after timeoutMs. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false | null>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Until the outbox relay has started an appointment's process (its row stamped); the API answers before that. */
export async function processStarted(db: Db, appointmentId: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () =>
      (await db.selectFrom('appointments').select('process_started_at').where('id', '=', appointmentId).executeTakeFirst())
        ?.process_started_at ?? null,
    timeoutMs,
    `the process of appointment ${appointmentId} started by the outbox relay`,
  );
}
