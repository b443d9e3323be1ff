import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { bookingStatusQuery } from '../workflows/booking';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';

// This file's workflows run on their own task queue, served only by the worker processes it
// starts and kills, so no in-process worker of another test file can finish them instead.
const queue = `clinical-recovery-${randomUUID().slice(0, 8)}`;
let engine: TestEngine;
const workers: ChildProcess[] = [];

/** Starts `workers/clinical.ts` as its own process, as production does, and waits until it polls. */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../workers/clinical.ts')], {
    env: { ...process.env, CLINICAL_TASK_QUEUE: queue, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  workers.push(child);
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => { if (line.includes('"worker started"')) resolve(); });
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => { engine = await startTestEngine({ clinicalTaskQueue: queue, clinicalWorker: false }); });
afterAll(async () => {
  await Promise.all(workers.map(kill));
  await engine.stop();
});

test('a booking survives the clinical worker being killed mid-booking, and nothing is written twice', async () => {
  const clinic = await makeClinic(engine.db);
  const patientId = await makePatient(engine.db);
  const slot = await makeSlot(engine.db, clinic, daysFromNow(3));
  const token = await engine.token('registrar');
  const first = await startWorker();

  // Book, and kill the worker the moment the hold is written, before it can report back.
  const request = jsonRequest('POST', token, { slotId: slot.id, patientId });
  (request.headers as Record<string, string>)['idempotency-key'] = `recovery-${randomUUID()}`;
  const booking = engine.app.request('/appointments', request);
  const row = await eventually(() => engine.db.selectFrom('appointments').selectAll().where('slot_id', '=', slot.id).executeTakeFirst(), 30_000, 'hold row');
  await kill(first);
  const second = await startWorker();
  const booked = await booking;
  expect(booked.status).toBe(201);
  expect(await booked.json()).toMatchObject({ id: row.id, status: 'held' });

  // Confirm while no worker runs at all; the Update waits and completes once one is back.
  await kill(second);
  const confirming = engine.app.request(`/appointments/${row.id}/confirm`, jsonRequest('POST', token));
  await new Promise((r) => setTimeout(r, 500));
  await startWorker();
  const confirmed = await confirming;
  expect(confirmed.status).toBe(200);
  expect(await confirmed.json()).toMatchObject({ id: row.id, status: 'booked' });

  const rows = await engine.db.selectFrom('appointments').select(['id', 'status']).where('slot_id', '=', slot.id).execute();
  expect(rows).toEqual([{ id: row.id, status: 'booked' }]);
  const actions = await engine.db.selectFrom('audit_log').select('action').where('workflow_id', '=', row.workflow_id).orderBy('id').execute();
  expect(actions.map((a) => a.action)).toEqual(['held', 'booked']);
  expect(await engine.client.workflow.getHandle(row.workflow_id).query(bookingStatusQuery)).toMatchObject({ status: 'booked' });
}, 120_000);
