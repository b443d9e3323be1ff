/** The API process: serves the Hono app until SIGINT/SIGTERM, then drains and closes. */
import { serve } from '@hono/node-server';
import { loadConfig, requireDatabaseUrl } from '../platform/config';
import { createDb } from '../db';
import { createLogger } from '../platform/logger';
import { connectClient } from '../platform/temporal';
import { createApp } from './app';

async function main() {
  const config = loadConfig();
  const logger = createLogger('api', config.LOG_LEVEL);
  const db = createDb(requireDatabaseUrl(config));
  const temporal = await connectClient(config);
  const app = createApp({ config, db, temporal, logger });
  const server = serve({ fetch: app.fetch, hostname: config.API_HOST, port: config.API_PORT }, (info) =>
    logger.info({ port: info.port }, 'api listening'),
  );
  const stop = () => {
    logger.info('api stopping');
    server.close(async () => {
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
