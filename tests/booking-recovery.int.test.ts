import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import pg from 'pg';
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
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"worker started"')) resolve();
    });
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

beforeAll(async () => {
  engine = await startTestEngine({ clinicalTaskQueue: queue, clinicalWorker: false });
});
afterAll(async () => {
  await Promise.all(workers.map(kill));
  await engine.stop();
});

test('a booking survives the clinical worker being killed mid-booking, and nothing is written twice', async () => {
  const clinic = await makeClinic(engine.db);
  const patientId = await makePatient(engine.db);
  const slot = await makeSlot(engine.db, clinic, daysFromNow(3));
  const token = await engine.token('registrar', { clinicId: clinic.clinicId });
  const first = await startWorker();

  // Catch the worker inside its hold transaction: the test's own uncommitted appointment on the
  // same slot makes the worker's insert wait on the slot's unique index, after it has locked the
  // patient. Postgres says who waits on whom, so the kill lands mid-booking every time.
  const blocker = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await blocker.connect();
  await blocker.query('BEGIN');
  await blocker.query(
    `INSERT INTO appointments (id, slot_id, patient_id, practitioner_id, clinic_id, starts_at, ends_at, status, workflow_id, booked_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'held', $8, 'test')`,
    [
      randomUUID(),
      slot.id,
      await makePatient(engine.db),
      clinic.practitionerId,
      clinic.clinicId,
      slot.startsAt,
      slot.endsAt,
      `blocker-${randomUUID()}`,
    ],
  );
  const blockerPid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const request = jsonRequest('POST', token, { slotId: slot.id, patientId });
  (request.headers as Record<string, string>)['idempotency-key'] = `recovery-${randomUUID()}`;
  const booking = engine.app.request('/appointments', request);
  // Asked on another connection: inside the blocker's transaction pg_stat_activity is a snapshot.
  await eventually(
    async () => {
      const waiting = await sql<{
        n: string;
      }>`SELECT count(*) AS n FROM pg_stat_activity WHERE ${blockerPid}::int = ANY(pg_blocking_pids(pid))`.execute(engine.db);
      return Number(waiting.rows[0]!.n) > 0;
    },
    30_000,
    'the worker waiting inside its hold transaction',
  );
  await kill(first);
  await blocker.query('ROLLBACK');
  await blocker.end();
  const second = await startWorker();
  const booked = await booking;
  expect(booked.status).toBe(201);
  const row = await engine.db.selectFrom('appointments').selectAll().where('slot_id', '=', slot.id).executeTakeFirstOrThrow();
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
  const actions = await engine.db
    .selectFrom('audit_log')
    .select('action')
    .where('workflow_id', '=', row.workflow_id)
    .orderBy('id')
    .execute();
  expect(actions.map((a) => a.action)).toEqual(['held', 'booked']);
  expect(await engine.client.workflow.getHandle(row.workflow_id).query(bookingStatusQuery)).toMatchObject({ status: 'booked' });
}, 120_000);
