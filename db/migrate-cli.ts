/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_URL (production deploys run this), else to
 * npm start's embedded Postgres (EMBEDDED_PG_PORT).
 */
import { cliDatabaseUrl, reachPostgres } from '../platform/cli-connections';
import { loadConfig } from '../platform/config';
import { createDb, migrateToLatest } from './index';

async function main() {
  const config = loadConfig();
  const db = createDb(cliDatabaseUrl(config), 1);
  try {
    await reachPostgres(db, config);
    const result = await migrateToLatest(db);
    for (const r of result.results ?? []) process.stdout.write(`${r.status} ${r.migrationName}\n`);
    if (!result.results?.length) process.stdout.write('nothing to migrate\n');
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
