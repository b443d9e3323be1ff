/**
 * For tests/db-connection-lost.int.test.ts: takes a connection from the engine's pool into a
 * transaction, prints its backend pid, waits while the test terminates that backend, then says
 * whether the process survived and what the next query in the transaction got.
 */
import { sql } from 'kysely';
import { createDb } from '../db';

async function main(): Promise<void> {
  const db = createDb(process.env.DATABASE_URL!, 2);
  const outcome = await db
    .transaction()
    .execute(async (t) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(t);
      process.stdout.write(`backend ${rows[0]!.pid}\n`);
      // Between two queries of the transaction: the test terminates the backend now.
      await new Promise((r) => setTimeout(r, 1500));
      await sql`select 1`.execute(t);
      return 'second query answered';
    })
    .catch((err: Error) => `second query refused: ${err.message}`);
  process.stdout.write(`alive; ${outcome}\n`);
  await db.destroy();
}

void main();
