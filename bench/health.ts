/**
 * How fast the API says a part is away (tests/health.int.test.ts asserts only what it says): an in-process app whose
 * Postgres is a closed port or a server that accepts and never answers, and whose Temporal never answers. Prints the
 * time to the 503 of a route that needs Postgres and to /health's answer, p50 and max of `BENCH_RUNS` (default 5).
 * Needs nothing running: `node --import tsx bench/health.ts` (no npm script, to keep package.json out of this change).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { mintToken } from '../api/auth';
import { createDb } from '../db';
import { parseConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** A TCP server that accepts connections and never says a word (a hung Postgres or Temporal). */
async function silentServer(): Promise<{ port: number; close(): void }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function timed(runs: number, call: () => Promise<number>): Promise<{ status: number; p50: number; max: number }> {
  const ms: number[] = [];
  let status = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    status = await call();
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  return { status, p50: ms[Math.floor(ms.length / 2)]!, max: ms.at(-1)! };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-health-'));
  const config = parseConfig({ ...process.env, NODE_ENV: 'test', DATA_DIR: dataDir });
  const silentPg = await silentServer();
  const silentTemporal = await silentServer();
  const connection = Connection.lazy({ address: `127.0.0.1:${silentTemporal.port}` });
  const temporal = new Client({ connection });
  const token = await mintToken(config.AUTH_SECRET, { id: 'bench-doctor', role: 'doctor', practitionerId: randomUUID() });
  const rows: string[] = [];
  try {
    for (const [label, url] of [
      ['Postgres on a closed port', `postgres://x:y@127.0.0.1:${await freePort()}/none`],
      ['Postgres that never answers', `postgres://x:y@127.0.0.1:${silentPg.port}/none`],
    ] as const) {
      const db = createDb(url, 2);
      const app = createApp({ config, db, temporal, logger: createLogger('bench', 'silent') });
      const headers = { authorization: `Bearer ${token}` };
      const route = await timed(RUNS, async () => (await app.request(`/referrals/${randomUUID()}`, { headers })).status);
      const health = await timed(RUNS, async () => (await app.request('/health')).status);
      const ms = (t: { p50: number; max: number }) => `${t.p50.toFixed(0)} / ${t.max.toFixed(0)}`;
      rows.push(`| ${label}, Temporal never answers | ${route.status} | ${ms(route)} | ${health.status} | ${ms(health)} |`);
      await db.destroy();
    }
  } finally {
    silentPg.close();
    silentTemporal.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const machine = `${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)}`;
  console.log(`bench/health.ts, ${RUNS} runs each, ${new Date().toISOString()}, ${machine}`);
  console.log('| parts away | GET /referrals/{id} status | ms p50 / max | /health status | ms p50 / max |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
