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
import { ensureDemoRollout } from './demo-rollout';
import { seedDeskArrivals } from './desk-demo';
import { startOpenReferrals } from './referrals';
import { startDemoLabOrders } from './lab-order-demo';
import { seedLabDoctorDemo } from './lab-doctor-demo';
import { processMetricsSinks, WORKFLOW_INTERCEPTOR_MODULES } from './metrics';
import { notifyTransports, startNotifyRelay } from './notify';
import { startWorkerRelay } from './outbox-relay';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Bundles workflow code (with the failure converter the sandbox needs) once; every worker built
 * from the bundle reuses it.
 */
export async function bundleWorkflows(
  workflowsPath = WORKFLOWS_PATH,
  onError: (m: string) => void = console.error,
): Promise<{ code: string }> {
  const quiet = () => undefined;
  return bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: { info: quiet, warn: quiet, error: onError, debug: quiet, trace: quiet, log: quiet },
  });
}

/**
 * Poller settings measured by `npm run bench:floor` (README "Temporal settings"): every new
 * process's first task arrives on the normal (non-sticky) queue, which the SDK's defaults poll
 * with 2 of 10 pollers; at a booking peak that queue is the limit, not the CPU. Workflow-task slots
 * stand well above the pollers: an eager start is granted only when a slot is free beside every
 * poller's reservation (docs/outbox.md).
 */
export const CLINICAL_WORKER_OPTIONS = {
  maxConcurrentWorkflowTaskPolls: 20,
  nonStickyToStickyPollRatio: 1,
  maxConcurrentWorkflowTaskExecutions: 200,
} as const;

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
    activities: createClinicalActivities({ db: opts.db, notify: notifyTransports(opts.config) }),
    dataConverter: dataConverter(opts.config),
    sinks: processMetricsSinks(),
    ...CLINICAL_WORKER_OPTIONS,
  });
}

if (require.main === module) {
  runWorkerProcess('clinical', async ({ config, connection, logger }) => {
    const db = createDb(requireDatabaseUrl(config));
    const started = Date.now();
    const workflowBundle = await bundleWorkflows();
    logger.info({ ms: Date.now() - started }, 'workflow bundle built');
    const worker = await createClinicalWorker({ connection, config, db, workflowBundle });
    const processRelay = startWorkerRelay({ connection, config, db, databaseUrl: requireDatabaseUrl(config), logger });
    const client = await connectClient(config);
    for (const schedule of [slotHorizonSchedule(config.CLINICAL_TASK_QUEUE), lapsedHoldsSchedule(config.CLINICAL_TASK_QUEUE)]) {
      if (await ensureSchedule(client, schedule)) logger.info({ scheduleId: schedule.scheduleId }, 'created schedule');
    }
    if (await ensureDemoRollout(client, db, config.CLINICAL_TASK_QUEUE)) logger.info('started the demo city rollout program');

    // Not from a test's throwaway worker: it would claim the demo's processes for its own task queue.
    if (config.NODE_ENV !== 'test')
      logger.info({ referrals: await startOpenReferrals(client, db, config.CLINICAL_TASK_QUEUE) }, 'open referrals have their processes');
    // The demo city's lab orders (embedded demo start only) need this worker running: started once it runs.
    const demoOrders =
      config.DEMO_LAB_ORDERS !== 'on'
        ? Promise.resolve()
        : new Promise((r) => setTimeout(r, 500))
            .then(() => startDemoLabOrders({ client, db, taskQueue: config.CLINICAL_TASK_QUEUE }))
            .then((n) => {
              if (n) logger.info({ orders: n }, 'demo lab orders started');
            })
            .then(async () =>
              logger.info(
                await seedLabDoctorDemo({ client, db, taskQueue: config.CLINICAL_TASK_QUEUE }),
                "demo lab bench and doctor's referral",
              ),
            )
            .catch((err: unknown) => logger.warn({ err: String(err) }, 'demo lab orders not started'));
    // Today's arrivals at the demo registrar's desk (workers/desk-demo.ts), on the same demo start.
    const deskDemo =
      config.DEMO_LAB_ORDERS !== 'on'
        ? Promise.resolve()
        : seedDeskArrivals({ client, db, taskQueue: config.CLINICAL_TASK_QUEUE })
            .then((n) => {
              if (n) logger.info({ arrivals: n }, 'demo arrivals booked');
            })
            .catch((err: unknown) => logger.warn({ err: String(err) }, 'demo arrivals not booked'));
    const notifyRelay = await startNotifyRelay({ config, db, client, logger });
    return {
      worker,
      close: async () => {
        await notifyRelay?.close();
        await Promise.race([Promise.all([demoOrders, deskDemo]), new Promise((r) => setTimeout(r, 5000))]);
        await processRelay?.stop();
        await client.connection.close();
        await db.destroy();
      },
    };
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
