/**
 * A worker of its own process for the kill test: serves the delivery workflow and activities on
 * NOTIFY_TASK_QUEUE against the test run's stack, so the test can SIGKILL it mid-send.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createNotifyActivities } from '../activities/notify';
import { createDb } from '../db';
import { parseConfig } from '../platform/config';
import { dataConverter, temporalAddress } from '../platform/temporal';
import { notifyTransports } from '../workers/notify';

async function main() {
  const config = parseConfig({ ...process.env, NODE_ENV: 'test', DATA_DIR: process.env.TEST_DATA_DIR });
  const db = createDb(config.DATABASE_URL!, 2);
  const connection = await NativeConnection.connect({ address: temporalAddress(config) });
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: process.env.NOTIFY_TASK_QUEUE!,
    workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
    activities: createNotifyActivities({ db, ...notifyTransports(config) }),
    dataConverter: dataConverter(config),
  });
  process.stdout.write('worker ready\n');
  await worker.run();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
