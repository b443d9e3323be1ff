/**
 * Postgres stopping while a connection is out of the pool for a transaction (between two of its
 * queries) fails that transaction; it must not crash the process (the API went away for a moment
 * in the Postgres fault run: pg emits 'error' on a checked-out client that nobody listened to).
 */
import { spawn } from 'node:child_process';
import pg from 'pg';

test('a connection terminated in the middle of a transaction fails the transaction, not the process', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/db-connection-lost-child.ts'], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!/backend \d+/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  const backend = Number(/backend (\d+)/.exec(out)?.[1]);
  expect(backend).toBeGreaterThan(0);
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ done: boolean }>('select pg_terminate_backend($1) as done', [backend]);
    expect(rows[0]!.done).toBe(true);
  } finally {
    await admin.end();
  }
  expect(await exited).toBe(0);
  expect(out).toMatch(/alive; second query refused: /);
}, 90_000);
