/**
 * The test run's stack, as its own process (started by the jest global setup): a Postgres and a
 * Temporal dev server on free ports in a temp folder (or DATABASE_URL / TEMPORAL_ADDRESS when
 * given), migrated and seeded, plus the workflow bundle built once for every test file.
 * Prints one JSON line with what the tests need, then waits for SIGTERM to stop everything.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../platform/config';
import { createDb, migrateToLatest } from '../db';
import { DEMO_TIME_ZONE, seedDemoCity } from '../db/seed';
import { localToday } from '../domain/time';
import {
  ensureTemporalCli,
  freePort,
  startEmbeddedPostgres,
  startTemporalDevServer,
  type RunningPostgres,
  type RunningTemporal,
} from '../local-stack/stack';
import { bundleWorkflows, WORKFLOWS_PATH } from '../workers/clinical';

/** The line the global setup waits for (the dev server prints its own banner on stdout too). */
const READY_MARKER = 'TEST_STACK_READY ';
/** The namespace of tests/fuzz.int.test.ts (with an external TEMPORAL_ADDRESS it must exist there). */
const FUZZ_NAMESPACE = 'fuzz';
const say = (line: string) => process.stderr.write(`[test-stack] ${line}\n`);

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clinical-test-'));
  let postgres: RunningPostgres | undefined;
  let temporal: RunningTemporal | undefined;
  const stop = async () => {
    await temporal?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  const [databaseUrl, temporalAddress, bundlePath] = await Promise.all([
    (async () => {
      if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
      postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port: await freePort(), say });
      return postgres.url;
    })(),
    (async () => {
      if (process.env.TEMPORAL_ADDRESS) return process.env.TEMPORAL_ADDRESS;
      const executable = await ensureTemporalCli(path.join(PROJECT_ROOT, '.tools'), say, process.env.TEMPORAL_CLI_PATH);
      // The property-based run gets a namespace of its own: other files' workflows, whose workers
      // have stopped, would make its calls wait on queries nobody answers.
      temporal = await startTemporalDevServer({ executable, namespaces: [FUZZ_NAMESPACE] });
      return temporal.address;
    })(),
    (async () => {
      const { code } = await bundleWorkflows(WORKFLOWS_PATH, say);
      const file = path.join(dir, 'workflow-bundle.js');
      writeFileSync(file, code);
      return file;
    })(),
  ]);

  const db = createDb(databaseUrl, 2);
  await migrateToLatest(db);
  await seedDemoCity(db, { today: localToday(DEMO_TIME_ZONE), slotDays: 14, patients: 60 });
  await db.destroy();
  process.stdout.write(
    `${READY_MARKER}${JSON.stringify({
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      WORKFLOW_BUNDLE_PATH: bundlePath,
      TEST_DATA_DIR: dir,
      // One set of secrets for every jest worker, so payloads one encrypts another can read.
      AUTH_SECRET: randomBytes(32).toString('base64url'),
      PAYLOAD_KEY: randomBytes(32).toString('base64'),
      CDS_DIGEST_SECRET: randomBytes(32).toString('base64url'),
    })}\n`,
  );
}

main().catch((err) => {
  say(String(err?.stack ?? err));
  process.exit(1);
});
