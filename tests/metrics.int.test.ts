/**
 * /metrics for ops: the API's counters and route histogram move with real requests, the worker
 * sink counts process runs, the CDS histogram times scoring, and a worker process serves its own
 * metrics together with the Temporal SDK's.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { PROJECT_ROOT } from '../platform/config';
import { createCdsActivities } from '../activities/cds';
import { freeLoopbackPort } from '../workers/metrics';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
const METRICS_TOKEN = `scrape-${randomUUID()}-${randomUUID()}`;
beforeAll(async () => {
  engine = await startTestEngine({ configOverrides: { METRICS_TOKEN } });
});
afterAll(async () => {
  await engine.stop();
});

/** The value of one sample: metric name and a subset of its labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && want.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
const scrape = async () => {
  const res = await engine.app.request('/metrics', { headers: { authorization: `Bearer ${await engine.token('ops')}` } });
  expect(res.status).toBe(200);
  return res.text();
};
async function book(slotId: string, patientId: string, clinicId: string) {
  const init = jsonRequest('POST', await engine.token('registrar', { clinicIds: [clinicId] }), { slotId, patientId });
  (init.headers as Record<string, string>)['idempotency-key'] = `m-${randomUUID()}`;
  return engine.app.request('/appointments', init);
}

describe('metrics for ops', () => {
  test('a booking and a conflict move the counters, the route histogram is labelled by route pattern, held slots are counted', async () => {
    const clinic = await makeClinic(engine.db);
    const [alice, bob] = [await makePatient(engine.db), await makePatient(engine.db)];
    const slot = await makeSlot(engine.db, clinic, daysFromNow(5));
    const before = await scrape();

    const first = await book(slot.id, alice, clinic.clinicId);
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };
    const conflict = await book(slot.id, bob, clinic.clinicId);
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { error: { code: string } }).error.code).toBe('slot_taken');
    expect(
      (
        await engine.app.request(`/appointments/${id}`, {
          headers: { authorization: `Bearer ${await engine.token('registrar', { clinicIds: [clinic.clinicId] })}` },
        })
      ).status,
    ).toBe(200);

    // The clinical worker's outbox relay starts the booking's process after the answer: its start is counted then.
    await eventually(
      async () =>
        (await engine.db.selectFrom('appointments').select('process_started_at').where('id', '=', id).executeTakeFirst())
          ?.process_started_at ?? null,
      30_000,
      'the booking process started by the relay',
    );
    const after = await scrape();
    const type = { workflow_type: 'bookingWorkflow' };
    expect(sample(after, 'clinical_booking_conflicts_total', { code: 'slot_taken' })).toBe(
      sample(before, 'clinical_booking_conflicts_total', { code: 'slot_taken' }) + 1,
    );
    // The booking started its process; the conflict was refused by Postgres and started none.
    expect(sample(after, 'clinical_process_start_requests_total', type)).toBeGreaterThanOrEqual(
      sample(before, 'clinical_process_start_requests_total', type) + 1,
    );
    const route = (r: string, status: string) => ({ method: 'POST', route: r, status });
    expect(sample(after, 'clinical_http_request_duration_seconds_count', route('/appointments', '201'))).toBe(
      sample(before, 'clinical_http_request_duration_seconds_count', route('/appointments', '201')) + 1,
    );
    expect(sample(after, 'clinical_http_request_duration_seconds_count', route('/appointments', '409'))).toBeGreaterThanOrEqual(1);
    expect(
      sample(after, 'clinical_http_request_duration_seconds_count', { method: 'GET', route: '/appointments/:id', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
    // Route patterns only: no label ever carries an id.
    expect(after).not.toContain(id);
    expect(after).not.toMatch(/route="[^"]*[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(sample(after, 'clinical_held_slots')).toBeGreaterThanOrEqual(1);
    // The demo city's seed has a referral past its deadline; critical results are counted too (none need be open).
    expect(sample(after, 'clinical_referrals_past_deadline')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^clinical_critical_results_unacknowledged \d+$/m);
    expect(after).toMatch(/^clinical_booking_processes_not_started \d+$/m);

    // The worker's interceptor counted the new run (not on replay) once its first task ran.
    await eventually(
      async () =>
        sample(await scrape(), 'clinical_processes_started_total', type) >= sample(before, 'clinical_processes_started_total', type) + 1,
      30_000,
      'runs counted',
    );
  });

  test('a process that ends is counted by type and outcome', async () => {
    const labels = { workflow_type: 'selfTestWorkflow', outcome: 'completed' };
    const before = sample(await scrape(), 'clinical_processes_ended_total', labels);
    expect((await engine.app.request('/ops/self-test', jsonRequest('POST', await engine.token('ops')))).status).toBe(200);
    await eventually(
      async () => sample(await scrape(), 'clinical_processes_ended_total', labels) >= before + 1,
      30_000,
      'the run counted as completed',
    );
  });

  test('scoring is timed per model in the CDS latency histogram', async () => {
    const golden = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'models/golden/diabetes-progression.json'), 'utf8')) as {
      cases: Array<{ features: number[] }>;
    };
    const meta = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'models/diabetes-progression.json'), 'utf8')) as {
      features: Array<{ name: string }>;
    };
    const labels = { model: 'diabetes-progression', outcome: 'ok' };
    const before = sample(await scrape(), 'clinical_cds_score_seconds_count', labels);
    // The activity itself, in this process: every test file's cds worker polls the one `cds` queue,
    // so through Temporal another process may score it and count it in its own registry.
    const { scoreModel } = createCdsActivities({ registry: engine.registry });
    await scoreModel({
      modelId: 'diabetes-progression',
      features: Object.fromEntries(meta.features.map((f, i) => [f.name, golden.cases[0]!.features[i]!])),
    });
    const after = await scrape();
    expect(sample(after, 'clinical_cds_score_seconds_count', labels)).toBe(before + 1);
    expect(after).toContain('clinical_cds_score_seconds_bucket{le="0.1",model="diabetes-progression",outcome="ok"}');
  });

  test('/metrics on the API port needs the scrape token or an ops or admin token, even from loopback', async () => {
    expect((await engine.app.request('/metrics')).status).toBe(401);
    expect((await engine.app.request('/metrics', { headers: { authorization: `Bearer ${await engine.token('doctor')}` } })).status).toBe(
      403,
    );
    expect((await engine.app.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401);
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: engine.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      // A reverse proxy on this host makes every public caller a loopback peer: no token, no metrics.
      expect((await fetch(url)).status).toBe(401);
      const res = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toContain('# TYPE clinical_http_request_duration_seconds histogram');
    } finally {
      server.close();
    }
  });

  test("the cds worker process serves our metrics and the Temporal SDK's on its own port", async () => {
    const port = await freeLoopbackPort();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers/cds.ts')], {
      env: { ...process.env, WORKER_METRICS_PORT: String(port), LOG_LEVEL: 'error', DATA_DIR: process.env.TEST_DATA_DIR },
      stdio: 'ignore',
    });
    try {
      const text = await eventually(
        async () => {
          const body = await fetch(`http://127.0.0.1:${port}/metrics`).then(
            (r) => (r.ok ? r.text() : undefined),
            () => undefined,
          );
          return body?.includes('temporal_') ? body : undefined;
        },
        90_000,
        "worker metrics with the SDK's",
      );
      expect(text).toContain('# TYPE clinical_cds_score_seconds histogram');
      expect(text).toMatch(/^temporal_\w+\{[^}]*task_queue="cds"/m);
      const forged = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: 'Bearer not-a-token' } });
      expect(forged.status).toBe(401);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
