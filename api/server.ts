/** The API process: serves the Hono app until SIGINT/SIGTERM, then drains and closes. */
import { serve } from '@hono/node-server';
import { loadConfig, requireDatabaseUrl } from '../platform/config';
import { createDb } from '../db';
import { createLogger } from '../platform/logger';
import { connectClient } from '../platform/temporal';
import { createApp } from './app';
import { startMllpServer } from './lab-messages/mllp';

async function main() {
  const config = loadConfig();
  const logger = createLogger('api', config.LOG_LEVEL);
  const db = createDb(requireDatabaseUrl(config));
  const temporal = await connectClient(config);
  const app = createApp({ config, db, temporal, logger });
  const server = serve({ fetch: app.fetch, hostname: config.API_HOST, port: config.API_PORT }, (info) =>
    logger.info({ port: info.port }, 'api listening'),
  );
  // HL7 v2 over MLLP for lab systems: the same intake as POST /lab-results/hl7v2 (docs/lab-messages.md).
  const mllp =
    config.MLLP_PORT > 0
      ? await startMllpServer({ db, temporal, logger }, { port: config.MLLP_PORT, senders: config.MLLP_SENDERS, peers: config.MLLP_PEERS })
      : undefined;
  const stop = () => {
    logger.info('api stopping');
    server.close(async () => {
      await mllp?.stop().catch(() => undefined);
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
