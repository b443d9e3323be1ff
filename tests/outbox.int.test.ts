/**
 * The transactional outbox: a booking command writes the appointment and its process's start in
 * one transaction, and the clinical worker's relay starts the process behind the answer. A failed
 * command leaves neither; a relay killed mid-drain loses nothing and starts nothing twice; two
 * relays drain side by side without doubles; a start and a confirm pending together start the
 * process in `booked`, with no signal in its history.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createBookingCommands } from '../commands/booking';
import { bookingPolicy } from '../db/booking';
import { createLogger } from '../platform/logger';
import { dataConverter, temporalAddress } from '../platform/temporal';
import { bookingStatusQuery, bookingWorkflowId } from '../workflows/booking';
import { createClinicalWorker } from '../workers/clinical';
import { startOutboxRelay, type OutboxRelay } from '../workers/outbox-relay';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, startTestEngine, testConfig, type TestEngine } from './helpers';

let engine: TestEngine;
let connection: NativeConnection;
const logger = createLogger('test', 'silent');
beforeAll(async () => {
  engine = await startTestEngine();
  connection = await NativeConnection.connect({ address: temporalAddress(engine.config) });
});
afterAll(async () => {
  await connection.close().catch(() => undefined);
  await engine.stop();
});

type Json = Record<string, any>;
const processState = (id: string) =>
  engine.client.workflow
    .getHandle(bookingWorkflowId(id))
    .query(bookingStatusQuery)
    .catch(() => undefined);
const outboxRows = (workflowId: string) =>
  engine.db.selectFrom('process_outbox').selectAll().where('workflow_id', '=', workflowId).orderBy('id').execute();

/** A task queue no running relay drains, with a clinical worker of its own: rows wait there until a test starts a relay. */
async function ownQueue(): Promise<{ taskQueue: string; worker: Worker; running: Promise<void> }> {
  const taskQueue = `outbox-test-${randomUUID().slice(0, 8)}`;
  const config = testConfig({ CLINICAL_TASK_QUEUE: taskQueue });
  const worker = await createClinicalWorker({
    connection,
    config,
    db: engine.db,
    workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
  });
  return { taskQueue, worker, running: worker.run() };
}

function relayOn(taskQueue: string, over: { batch?: number; startsPerSecond?: number } = {}): OutboxRelay {
  const client = new Client({ connection, namespace: engine.config.TEMPORAL_NAMESPACE, dataConverter: dataConverter(engine.config) });
  return startOutboxRelay({
    db: engine.db,
    client,
    taskQueue,
    databaseUrl: engine.config.DATABASE_URL!,
    logger,
    batch: over.batch ?? 50,
    concurrency: 8,
    pollMs: 200,
    startsPerSecond: over.startsPerSecond ?? 0,
  });
}

/** `n` held bookings made by the command on `taskQueue`, each in its own clinic slot. */
async function heldBookings(taskQueue: string, n: number, confirm = false) {
  const commands = createBookingCommands({ db: engine.db, taskQueue });
  const clinic = await makeClinic(engine.db);
  const policy = await bookingPolicy(engine.db, clinic.clinicId);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const slot = await makeSlot(engine.db, clinic, new Date(daysFromNow(5, 6).getTime() + i * 30 * 60_000));
    const appointmentId = randomUUID();
    await commands.book({
      appointmentId,
      workflowId: bookingWorkflowId(appointmentId),
      patientId: await makePatient(engine.db),
      slotId: slot.id,
      bookedBy: 'test',
      policy,
      confirm,
    });
    ids.push(appointmentId);
  }
  return { ids, commands, clinic };
}

/** How many runs Temporal has of this workflow id (a second start would be a second run). */
async function runs(appointmentId: string): Promise<number> {
  let n = 0;
  for await (const _ of engine.client.workflow.list({ query: `WorkflowId = '${bookingWorkflowId(appointmentId)}'` })) n++;
  return n;
}

describe('the booking outbox', () => {
  test('a booking and its process start commit together; the relay starts the process and stamps the row', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(6, 9));
    const init = jsonRequest('POST', await engine.token('registrar', { clinicId: clinic.clinicId }), { slotId: slot.id, patientId });
    (init.headers as Record<string, string>)['idempotency-key'] = `key-${randomUUID()}`;
    const res = await engine.app.request('/appointments', init);
    const body = (await res.json()) as Json;
    expect(res.status).toBe(201);
    const rows = await outboxRows(bookingWorkflowId(body.id));
    expect(rows.map((r) => [r.kind, r.subject_id, r.task_queue])).toEqual([['start', body.id, engine.config.CLINICAL_TASK_QUEUE]]);
    await eventually(async () => (await processState(body.id))?.status === 'held', 20_000, 'the process holding');
    await eventually(async () => (await outboxRows(bookingWorkflowId(body.id)))[0]!.done_at !== null, 10_000, 'the row marked done');
    const row = await engine.db.selectFrom('appointments').select('process_started_at').where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(row.process_started_at).not.toBeNull();
  });

  test('a refused booking leaves neither an appointment nor an outbox row', async () => {
    const { ids, commands, clinic } = await heldBookings(`outbox-idle-${randomUUID().slice(0, 8)}`, 1);
    const taken = await engine.db.selectFrom('appointments').select('slot_id').where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    const policy = await bookingPolicy(engine.db, clinic.clinicId);
    const loser = randomUUID();
    const refused = await commands
      .book({
        appointmentId: loser,
        workflowId: bookingWorkflowId(loser),
        patientId: await makePatient(engine.db),
        slotId: taken.slot_id,
        bookedBy: 'test',
        policy,
        confirm: false,
      })
      .then(
        () => 'booked',
        (err: { type?: string }) => err.type,
      );
    expect(refused).toBe('SlotTaken');
    expect(await engine.db.selectFrom('appointments').select('id').where('id', '=', loser).execute()).toEqual([]);
    expect(await outboxRows(bookingWorkflowId(loser))).toEqual([]);
    // A patient who does not exist: the command fails after its first reads, and nothing is left either.
    const ghost = randomUUID();
    const slot = await makeSlot(engine.db, clinic, daysFromNow(7, 9));
    const missing = await commands
      .book({
        appointmentId: ghost,
        workflowId: bookingWorkflowId(ghost),
        patientId: randomUUID(),
        slotId: slot.id,
        bookedBy: 'test',
        policy,
        confirm: false,
      })
      .then(
        () => 'booked',
        (err: { type?: string }) => err.type,
      );
    expect(missing).toBe('PatientNotFound');
    expect(await outboxRows(bookingWorkflowId(ghost))).toEqual([]);
  });

  test('a start and a confirm pending together start the process in booked, with no signal in its history', async () => {
    const q = await ownQueue();
    const { ids, commands } = await heldBookings(q.taskQueue, 1);
    const id = ids[0]!;
    await commands.confirm({ appointmentId: id, workflowId: bookingWorkflowId(id), by: 'test' });
    expect((await outboxRows(bookingWorkflowId(id))).map((r) => r.kind)).toEqual(['start', 'confirmed']);
    const relay = relayOn(q.taskQueue);
    try {
      await eventually(async () => (await processState(id))?.status === 'booked', 20_000, 'the process booked');
      await eventually(async () => (await outboxRows(bookingWorkflowId(id))).every((r) => r.done_at !== null), 10_000, 'both rows done');
      const history = await engine.client.workflow.getHandle(bookingWorkflowId(id)).fetchHistory();
      const types = history.events!.map((e) => String(e.eventType));
      expect(types.filter((t) => t.includes('SIGNALED'))).toEqual([]);
      expect(relay.stats()).toMatchObject({ started: 1, folded: 1, told: 0 });
    } finally {
      await relay.stop();
      q.worker.shutdown();
      await q.running;
    }
  });

  test('a confirm pending with a start an earlier relay made (killed before it marked the row done) is signalled, not folded', async () => {
    const q = await ownQueue();
    const { ids, commands } = await heldBookings(q.taskQueue, 1);
    const id = ids[0]!;
    const workflowId = bookingWorkflowId(id);
    const first = relayOn(q.taskQueue);
    try {
      await eventually(async () => (await processState(id))?.status === 'held', 20_000, 'the process held');
      await eventually(async () => (await outboxRows(workflowId)).every((r) => r.done_at !== null), 10_000, 'the start row done');
    } finally {
      await first.stop();
    }
    // As if that relay had died after the start and before its commit: the start row is pending again.
    await engine.db.updateTable('process_outbox').set({ done_at: null }).where('workflow_id', '=', workflowId).execute();
    await engine.db.updateTable('appointments').set({ process_started_at: null }).where('id', '=', id).execute();
    await commands.confirm({ appointmentId: id, workflowId, by: 'test' });
    expect((await outboxRows(workflowId)).map((r) => [r.kind, r.done_at])).toEqual([
      ['start', null],
      ['confirmed', null],
    ]);
    const second = relayOn(q.taskQueue);
    try {
      await eventually(async () => (await processState(id))?.status === 'booked', 20_000, 'the process booked');
      await eventually(async () => (await outboxRows(workflowId)).every((r) => r.done_at !== null), 10_000, 'both rows done');
      expect(second.stats()).toMatchObject({ started: 0, folded: 0, told: 1 });
      expect(await runs(id)).toBe(1);
    } finally {
      await second.stop();
      q.worker.shutdown();
      await q.running;
    }
  });

  test('two relays drain side by side: every row claimed once, every process started once', async () => {
    const q = await ownQueue();
    const { ids } = await heldBookings(q.taskQueue, 40);
    const a = relayOn(q.taskQueue, { batch: 5 });
    const b = relayOn(q.taskQueue, { batch: 5 });
    try {
      await eventually(
        async () => {
          const left = await engine.db
            .selectFrom('process_outbox')
            .select('id')
            .where('task_queue', '=', q.taskQueue)
            .where('done_at', 'is', null)
            .execute();
          return left.length === 0;
        },
        60_000,
        'the outbox drained',
      );
      expect(a.stats().rows + b.stats().rows).toBe(40);
      expect(a.stats().started + b.stats().started).toBe(40);
      await eventually(async () => (await Promise.all(ids.map(runs))).every((n) => n === 1), 20_000, 'one run per process in visibility');
      const states = await Promise.all(ids.map(processState));
      expect(states.map((s) => s?.status)).toEqual(ids.map(() => 'held'));
    } finally {
      await a.stop();
      await b.stop();
      q.worker.shutdown();
      await q.running;
    }
  });

  test('a relay killed mid-drain loses nothing and starts nothing twice', async () => {
    const q = await ownQueue();
    const { ids } = await heldBookings(q.taskQueue, 30);
    // A relay in its own process, slowed to 10 starts a second, killed (SIGKILL) inside its first batch.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'outbox-relay-child.ts')], {
      env: { ...process.env, CLINICAL_TASK_QUEUE: q.taskQueue, OUTBOX_STARTS_PER_SECOND: '10', OUTBOX_BATCH: '100' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) =>
      createInterface({ input: child.stdout! }).on('line', (l) => {
        if (l === 'RELAY_READY') resolve();
      }),
    );
    const exists = (id: string) =>
      engine.client.workflow
        .getHandle(bookingWorkflowId(id))
        .describe()
        .then(
          () => true,
          () => false,
        );
    const startedRuns = async () => (await Promise.all(ids.map(exists))).filter(Boolean).length;
    await eventually(async () => (await startedRuns()) >= 3, 30_000, 'the child relay starting processes');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = await startedRuns();
    expect(before).toBeLessThan(30); // killed mid-batch: some processes started, their rows not marked done
    const undone = await engine.db
      .selectFrom('process_outbox')
      .select('id')
      .where('task_queue', '=', q.taskQueue)
      .where('done_at', 'is', null)
      .execute();
    expect(undone.length).toBe(30);
    const relay = relayOn(q.taskQueue);
    try {
      await eventually(
        async () =>
          (
            await engine.db
              .selectFrom('process_outbox')
              .select('id')
              .where('task_queue', '=', q.taskQueue)
              .where('done_at', 'is', null)
              .execute()
          ).length === 0,
        60_000,
        'the rest drained',
      );
      await eventually(async () => (await Promise.all(ids.map(runs))).every((n) => n === 1), 20_000, 'one run per process in visibility');
      // The processes the killed relay started were found started (not started again); the others started now.
      expect(relay.stats().started).toBe(30 - before);
      const stamped = await engine.db
        .selectFrom('appointments')
        .select('id')
        .where('id', 'in', ids)
        .where('process_started_at', 'is not', null)
        .execute();
      expect(stamped.length).toBe(30);
    } finally {
      await relay.stop();
      q.worker.shutdown();
      await q.running;
    }
  });
});
