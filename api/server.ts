/** The API process: serves the Hono app until SIGINT/SIGTERM, then drains and closes. */
import { serve } from '@hono/node-server';
import { loadConfig, requireDatabaseUrl } from '../platform/config';
import { createDb } from '../db';
import { createLogger } from '../platform/logger';
import { connectClient } from '../platform/temporal';
import { createApp } from './app';
import { createProcessStarter } from './booking/process-starter';
import { startMllpServer } from './lab-messages/mllp';

async function main() {
  const config = loadConfig();
  const logger = createLogger('api', config.LOG_LEVEL);
  const db = createDb(requireDatabaseUrl(config));
  const temporal = await connectClient(config);
  const bookingStarter = config.BOOKING_PROCESS_START === 'behind'
    ? createProcessStarter({ db, temporal, taskQueue: config.CLINICAL_TASK_QUEUE }, {
      coalesceMs: config.BOOKING_START_COALESCE_MS, concurrency: config.BOOKING_START_CONCURRENCY, maxBacklog: config.BOOKING_START_BACKLOG,
      reconcileEveryMs: 5_000, reconcileAfterSeconds: 15,
    }, logger)
    : undefined;
  const app = createApp({ config, db, temporal, logger, bookingStarter });
  const server = serve({ fetch: app.fetch, hostname: config.API_HOST, port: config.API_PORT }, (info) =>
    logger.info({ port: info.port }, 'api listening'),
  );
  // HL7 v2 over MLLP for lab systems: the same intake as POST /lab-results/hl7v2 (docs/lab-messages.md).
  const mllp = config.MLLP_PORT > 0
    ? await startMllpServer({ db, temporal, logger }, { port: config.MLLP_PORT, senders: config.MLLP_SENDERS, peers: config.MLLP_PEERS })
    : undefined;
  const stop = () => {
    logger.info('api stopping');
    server.close(async () => {
      await mllp?.stop().catch(() => undefined);
      // Answered bookings whose processes wait here start now; any left, the next API's reconciler starts.
      await bookingStarter?.drain();
      await Promise.allSettled([db.destroy(), temporal.connection.close()]);
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
