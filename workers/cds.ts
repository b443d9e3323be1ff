/**
 * The cds worker: loads the ONNX models once and serves inference activities on task queue
 * `cds`, apart from the clinical worker so it can scale (or move to a GPU machine) on its own.
 * With CDS_INFERENCE_PORT set it also serves the internal scoring endpoint the CDS Hooks API
 * calls (workers/cds-inference.ts), through the same activities and batchers.
 */
import path from 'node:path';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createCdsActivities } from '../activities/cds';
import { loadModelRegistry, type ModelRegistry } from '../activities/cds-models';
import { createDiagnosisActivities, loadDiagnosisModel, type DiagnosisActivities } from '../activities/diagnosis';
import { PROJECT_ROOT, type Config } from '../platform/config';
import { CDS_TASK_QUEUE, dataConverter } from '../platform/temporal';
import { runWorkerProcess } from './bootstrap';
import { serveInference, type InferenceServer } from './cds-inference';

export const MODELS_DIR = path.join(PROJECT_ROOT, 'models');

export type CdsActivities = ReturnType<typeof createCdsActivities> & Partial<DiagnosisActivities>;

/** The activities with the config's batching: one set per process, shared by the worker and the endpoint. */
export function cdsActivitiesFor(config: Config, registry: ModelRegistry, diagnosis?: DiagnosisActivities): CdsActivities {
  return {
    ...createCdsActivities({ registry, batch: { maxBatchSize: config.CDS_BATCH_SIZE, maxWaitMs: config.CDS_BATCH_WAIT_MS } }),
    ...diagnosis,
  };
}

/** The diagnosis-suggestions activity when CDS_DIAGNOSIS_SUGGESTIONS is on (its model loaded once, here), else nothing. */
export async function diagnosisActivitiesFor(config: Config): Promise<DiagnosisActivities | undefined> {
  if (config.CDS_DIAGNOSIS_SUGGESTIONS !== 'on') return undefined;
  const model = await loadDiagnosisModel(MODELS_DIR);
  return createDiagnosisActivities({ model, batch: { maxBatchSize: config.CDS_BATCH_SIZE, maxWaitMs: config.CDS_BATCH_WAIT_MS } });
}

export async function createCdsWorker(opts: {
  connection: NativeConnection;
  config: Config;
  registry: ModelRegistry;
  activities?: CdsActivities;
}): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.config.TEMPORAL_NAMESPACE,
    taskQueue: CDS_TASK_QUEUE,
    activities: opts.activities ?? cdsActivitiesFor(opts.config, opts.registry),
    maxConcurrentActivityTaskExecutions: opts.config.CDS_MAX_CONCURRENT,
    dataConverter: dataConverter(opts.config),
  });
}

/** The scoring endpoint on the config's host and port, or nothing when CDS_INFERENCE_PORT is 0. */
export async function serveCdsInference(config: Config, activities: CdsActivities): Promise<InferenceServer | undefined> {
  if (!config.CDS_INFERENCE_PORT) return undefined;
  return serveInference({
    host: config.CDS_INFERENCE_HOST,
    port: config.CDS_INFERENCE_PORT,
    secret: config.CDS_INFERENCE_SECRET,
    maxPending: config.CDS_INFERENCE_MAX_PENDING,
    scoreModel: activities.scoreModel,
    suggestDiagnoses: activities.suggestDiagnoses,
  });
}

if (require.main === module) {
  runWorkerProcess('cds', async ({ config, connection, logger }) => {
    const registry = await loadModelRegistry(MODELS_DIR);
    logger.info({ models: registry.list().map((m) => `${m.meta.id}@${m.meta.version}`) }, 'models loaded');
    const diagnosis = await diagnosisActivitiesFor(config);
    if (diagnosis) logger.info({ model: 'diagnosis-suggestions' }, 'diagnosis suggestions on: model loaded');
    const activities = cdsActivitiesFor(config, registry, diagnosis);
    const worker = await createCdsWorker({ connection, config, registry, activities });
    const endpoint = await serveCdsInference(config, activities);
    if (endpoint) logger.info({ host: config.CDS_INFERENCE_HOST, port: endpoint.port }, 'cds scoring endpoint listening');
    return {
      worker,
      close: async () => {
        await endpoint?.close();
      },
    };
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
