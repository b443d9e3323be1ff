/**
 * What every worker process shares: config, logging through pino, the connection with the
 * encrypting data converter, and a clean shutdown on SIGINT/SIGTERM (in-flight tasks finish,
 * then the process exits).
 */
import { DefaultLogger, NativeConnection, Runtime, type LogLevel, type Worker } from '@temporalio/worker';
import { loadConfig, type Config } from '../platform/config';
import { createLogger, type Logger } from '../platform/logger';
import { connectWorker } from '../platform/temporal';
import { startHealthBeat } from './health-file';
import { coreMetricsTelemetry, freeLoopbackPort, serveWorkerMetrics } from './metrics';

export interface WorkerProcess {
  worker: Worker;
  /** Closes what the worker used (pools, sessions) after it has stopped. */
  close(): Promise<void>;
}

/** Runs one worker process until a shutdown signal. */
export async function runWorkerProcess(
  name: string,
  build: (ctx: { config: Config; logger: Logger; connection: NativeConnection }) => Promise<WorkerProcess>,
): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(`worker-${name}`, config.LOG_LEVEL);
  // The SDK's core serves its worker metrics on a private loopback port; our /metrics forwards them.
  const corePort = config.WORKER_METRICS_PORT ? await freeLoopbackPort() : undefined;
  Runtime.install({
    ...(corePort ? { telemetryOptions: coreMetricsTelemetry(`127.0.0.1:${corePort}`) } : {}),
    logger: new DefaultLogger(temporalLevel(config.LOG_LEVEL), (entry) => {
      logger[entry.level === 'TRACE' ? 'trace' : (entry.level.toLowerCase() as 'info')]({ ...entry.meta }, entry.message);
    }),
    shutdownSignals: ['SIGINT', 'SIGTERM'],
  });
  const connection = await connectWorker(config);
  const { worker, close } = await build({ config, logger, connection });
  logger.info({ taskQueue: worker.options.taskQueue }, 'worker started');
  const metrics = config.WORKER_METRICS_PORT
    ? await serveWorkerMetrics({
        config,
        port: config.WORKER_METRICS_PORT,
        host: config.WORKER_METRICS_HOST,
        coreMetricsUrl: `http://127.0.0.1:${corePort}/metrics`,
      })
    : undefined;
  if (metrics) logger.info({ port: metrics.port }, 'worker metrics at /metrics');
  // Touched only while the worker runs and its connection answers (workers/health-file.ts).
  const heartbeat = config.WORKER_HEALTH_FILE ? startHealthBeat({ file: config.WORKER_HEALTH_FILE, worker, connection }) : undefined;
  try {
    await worker.run();
  } finally {
    heartbeat?.stop();
    await metrics?.close();
    await close();
    await connection.close();
    logger.info('worker stopped');
  }
}

function temporalLevel(level: Config['LOG_LEVEL']): LogLevel {
  switch (level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'info':
      return 'INFO';
    case 'warn':
      return 'WARN';
    default:
      return 'ERROR';
  }
}
