/**
 * Truthful health: /health names each part that is down (a worker whose health file went stale,
 * Postgres, Temporal); routes that need a Postgres that is gone answer 503 `unavailable` at once,
 * not a 500 and not a hang; a worker's health file stops being touched when the connection its
 * polls use is cut, and is touched again when it comes back.
 */
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createApp } from '../api/app';
import { createDb, type Db } from '../db';
import { workerHealthFile } from '../platform/health';
import { createLogger } from '../platform/logger';
import { freePort } from '../platform/ports';
import { dataConverter, temporalAddress } from '../platform/temporal';
import { startHealthBeat } from '../workers/health-file';
import { eventually, startTestEngine, testConfig, type TestEngine } from './helpers';

let engine: TestEngine;
let dir: string;
beforeAll(async () => {
  engine = await startTestEngine({ clinicalWorker: false });
  dir = mkdtempSync(path.join(os.tmpdir(), 'health-'));
});
afterAll(async () => {
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Json = Record<string, any>;
const appWith = (db: Db, overrides: Record<string, string> = {}) =>
  createApp({ config: testConfig({ ...overrides }), db, temporal: engine.client, logger: createLogger('test', 'silent') });
async function get(app: ReturnType<typeof createApp>, url: string, token?: string): Promise<{ status: number; body: Json }> {
  const res = await app.request(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: (await res.json()) as Json };
}

/** A TCP proxy to the test Temporal server that a test can cut (drop every connection, refuse new ones) and restore. */
async function temporalProxy() {
  const [host, port] = temporalAddress(engine.config).split(':');
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (p: number) => new Promise<void>((r) => server.listen(p, '127.0.0.1', r));
  await listen(0);
  const proxyPort = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${proxyPort}`,
    cut: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
    restore: async () => {
      if (!server.listening) await listen(proxyPort);
    },
    async close() {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise((r) => server.close(r));
    },
  };
}

describe('/health', () => {
  test('names the worker whose health file is stale or missing, and is ok once both beat', async () => {
    const app = appWith(engine.db, { WORKER_HEALTH_DIR: dir });
    const clinical = workerHealthFile(dir, 'worker-clinical');
    const cds = workerHealthFile(dir, 'worker-cds');
    writeFileSync(clinical, 'now');
    writeFileSync(cds, 'then');
    const old = new Date(Date.now() - 60_000);
    utimesSync(cds, old, old);

    const stale = await get(app, '/health');
    expect(stale.status).toBe(503);
    expect(stale.body).toMatchObject({
      status: 'degraded',
      degraded: ['worker-cds'],
      postgres: { up: true },
      temporal: { up: true },
      workers: { 'worker-clinical': { up: true }, 'worker-cds': { up: false } },
    });
    expect(stale.body.workers['worker-cds'].lastBeatSecondsAgo).toBeGreaterThanOrEqual(59);

    rmSync(clinical);
    writeFileSync(cds, 'now');
    const missing = await get(app, '/health');
    expect(missing.body).toMatchObject({
      status: 'degraded',
      degraded: ['worker-clinical'],
      workers: { 'worker-clinical': { up: false, lastBeatSecondsAgo: null }, 'worker-cds': { up: true } },
    });

    writeFileSync(clinical, 'now');
    const ok = await get(app, '/health');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'ok', degraded: [] });
  });

  test('without WORKER_HEALTH_DIR it reports Postgres and Temporal only', async () => {
    const res = await get(appWith(engine.db), '/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', degraded: [] });
    expect(res.body).not.toHaveProperty('workers');
  });
});

describe('Postgres unreachable', () => {
  test('a closed port: /health names postgres and a route that needs it answers 503 unavailable at once', async () => {
    const db = createDb(`postgres://clinical:clinical@127.0.0.1:${await freePort()}/clinical`, 2);
    try {
      const app = appWith(db);
      const health = await get(app, '/health');
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: 'degraded', degraded: ['postgres'], postgres: { up: false }, temporal: { up: true } });

      const token = await engine.token('doctor', { id: 'doctor-health', practitionerId: randomUUID() });
      const res = await get(app, `/referrals/${randomUUID()}`, token);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: { code: 'unavailable', message: expect.stringContaining('database is unavailable') } });
    } finally {
      await db.destroy();
    }
  });

  test('a Postgres that accepts and never answers: 503 once the connect timeout passes, not a hang', async () => {
    const silent: net.Socket[] = [];
    const server = net.createServer((s) => {
      silent.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const db = createDb(`postgres://clinical:clinical@127.0.0.1:${(server.address() as net.AddressInfo).port}/clinical`, 2);
    try {
      const token = await engine.token('doctor', { id: 'doctor-health', practitionerId: randomUUID() });
      const res = await get(appWith(db), `/referrals/${randomUUID()}`, token);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('unavailable');
    } finally {
      await db.destroy();
      for (const s of silent) s.destroy();
      server.close();
    }
  });
});

describe('Temporal unreachable', () => {
  test('/health names temporal within its deadline, and a route that starts a process answers 503 unavailable', async () => {
    const proxy = await temporalProxy();
    const connection = await Connection.connect({ address: proxy.address });
    const temporal = new Client({ connection, namespace: engine.config.TEMPORAL_NAMESPACE, dataConverter: dataConverter(engine.config) });
    const app = createApp({ config: testConfig(), db: engine.db, temporal, logger: createLogger('test', 'silent') });
    try {
      expect((await get(app, '/health')).status).toBe(200);
      await proxy.cut();
      const health = await get(app, '/health');
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: 'degraded', degraded: ['temporal'], postgres: { up: true }, temporal: { up: false } });

      const started = await app.request('/ops/self-test', {
        method: 'POST',
        headers: { authorization: `Bearer ${await engine.token('ops')}` },
      });
      expect(started.status).toBe(503);
      expect(await started.json()).toEqual({
        error: { code: 'unavailable', message: expect.stringContaining('process engine is unavailable') },
      });
    } finally {
      await proxy.close();
      await connection.close();
    }
  }, 120_000);
});

describe("a worker's health file", () => {
  test("stops being touched when the worker's connection to Temporal is cut, and is touched again when it returns", async () => {
    const proxy = await temporalProxy();
    const connection = await NativeConnection.connect({ address: proxy.address });
    const worker = await Worker.create({
      connection,
      taskQueue: `health-${randomUUID().slice(0, 8)}`,
      activities: { noop: async () => undefined },
    });
    const running = worker.run();
    const file = path.join(dir, 'beat.health');
    const beat = startHealthBeat({ file, worker, connection, intervalMs: 200, deadlineMs: 500 });
    const mtime = () => {
      try {
        return statSync(file).mtimeMs;
      } catch {
        return 0;
      }
    };
    const fresh = () => Date.now() - mtime() < 1000;
    try {
      await eventually(async () => fresh(), 20_000, 'the first beats');

      // Cut: no new connections, the open ones dropped.
      await proxy.cut();
      await eventually(async () => !fresh(), 20_000, 'the beats to stop');
      const stoppedAt = mtime();
      await new Promise((r) => setTimeout(r, 1500));
      expect(mtime()).toBe(stoppedAt);
      expect(worker.getState()).toBe('RUNNING'); // the SDK alone would still say all is well

      await proxy.restore();
      await eventually(async () => fresh(), 30_000, 'the beats to resume');
    } finally {
      beat.stop();
      await proxy.restore().catch(() => undefined);
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
      await proxy.close();
    }
  });
});
