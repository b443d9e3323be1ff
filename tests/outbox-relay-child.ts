/**
 * A relay alone in its own process, for tests/outbox.int.test.ts to kill mid-drain (SIGKILL).
 * Reads the run's config from the environment, with CLINICAL_TASK_QUEUE and OUTBOX_* set by the test.
 */
import { NativeConnection } from '@temporalio/worker';
import { createDb } from '../db';
import { createLogger } from '../platform/logger';
import { temporalAddress } from '../platform/temporal';
import { startWorkerRelay } from '../workers/outbox-relay';
import { testConfig } from './helpers';

async function main() {
  const config = testConfig();
  const db = createDb(config.DATABASE_URL!, 2);
  const connection = await NativeConnection.connect({ address: temporalAddress(config) });
  startWorkerRelay({ connection, config, db, databaseUrl: config.DATABASE_URL!, logger: createLogger('relay-child', 'silent') });
  process.stdout.write('RELAY_READY\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
