/**
 * The cds worker: loads the ONNX models once and serves inference activities on task queue
 * `cds`, apart from the clinical worker so it can scale (or move to a GPU machine) on its own.
 */
import path from 'node:path';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createCdsActivities } from '../activities/cds';
import { loadModelRegistry, type ModelRegistry } from '../activities/cds-models';
import { PROJECT_ROOT, type Config } from '../platform/config';
import { CDS_TASK_QUEUE, dataConverter } from '../platform/temporal';
import { runWorkerProcess } from './bootstrap';

export const MODELS_DIR = path.join(PROJECT_ROOT, 'models');

export async function createCdsWorker(opts: { connection: NativeConnection; config: Config; registry: ModelRegistry }): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.config.TEMPORAL_NAMESPACE,
    taskQueue: CDS_TASK_QUEUE,
    activities: createCdsActivities({
      registry: opts.registry,
      batch: { maxBatchSize: opts.config.CDS_BATCH_SIZE, maxWaitMs: opts.config.CDS_BATCH_WAIT_MS },
    }),
    maxConcurrentActivityTaskExecutions: opts.config.CDS_MAX_CONCURRENT,
    dataConverter: dataConverter(opts.config),
  });
}

if (require.main === module) {
  runWorkerProcess('cds', async ({ config, connection, logger }) => {
    const registry = await loadModelRegistry(MODELS_DIR);
    logger.info({ models: registry.list().map((m) => `${m.meta.id}@${m.meta.version}`) }, 'models loaded');
    const worker = await createCdsWorker({ connection, config, registry });
    return { worker, close: async () => undefined };
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
