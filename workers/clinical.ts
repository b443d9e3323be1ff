/**
 * The clinical worker: runs every workflow and the database activities on task queue `clinical`.
 * Started as its own process by `npm start` (or `npm run worker:clinical`); tests build it in-process.
 */
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createClinicalActivities } from '../activities';
import { requireDatabaseUrl, type Config } from '../platform/config';
import { createDb, type Db } from '../db';
import { connectClient, dataConverter, FAILURE_CONVERTER_PATH } from '../platform/temporal';
import { ensureSchedule, lapsedHoldsSchedule, slotHorizonSchedule } from './schedules';
import { runWorkerProcess } from './bootstrap';
import { processMetricsSinks, WORKFLOW_INTERCEPTOR_MODULES } from './metrics';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Bundles workflow code (with the failure converter the sandbox needs) once; every worker built
 * from the bundle reuses it.
 */
export async function bundleWorkflows(workflowsPath = WORKFLOWS_PATH, onError: (m: string) => void = console.error): Promise<{ code: string }> {
  const quiet = () => undefined;
  return bundleWorkflowCode({ workflowsPath, failureConverterPath: FAILURE_CONVERTER_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, logger: { info: quiet, warn: quiet, error: onError, debug: quiet, trace: quiet, log: quiet } });
}

export async function createClinicalWorker(opts: {
  connection: NativeConnection;
  config: Config;
  db: Db;
  workflowBundle: WorkflowBundleOption;
}): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.config.TEMPORAL_NAMESPACE,
    taskQueue: opts.config.CLINICAL_TASK_QUEUE,
    workflowBundle: opts.workflowBundle,
    activities: createClinicalActivities({ db: opts.db }),
    dataConverter: dataConverter(opts.config),
    sinks: processMetricsSinks(),
  });
}

if (require.main === module) {
  runWorkerProcess('clinical', async ({ config, connection, logger }) => {
    const db = createDb(requireDatabaseUrl(config));
    const started = Date.now();
    const workflowBundle = await bundleWorkflows();
    logger.info({ ms: Date.now() - started }, 'workflow bundle built');
    const worker = await createClinicalWorker({ connection, config, db, workflowBundle });
    const client = await connectClient(config);
    for (const schedule of [slotHorizonSchedule(config.CLINICAL_TASK_QUEUE), lapsedHoldsSchedule(config.CLINICAL_TASK_QUEUE)]) {
      if (await ensureSchedule(client, schedule)) logger.info({ scheduleId: schedule.scheduleId }, 'created schedule');
    }
    await client.connection.close();
    return { worker, close: () => db.destroy() };
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
