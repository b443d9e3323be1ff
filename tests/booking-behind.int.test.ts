/**
 * Bookings answered before their processes start (BOOKING_PROCESS_START=behind, what the API
 * process runs): the process starts right behind the answer, a confirm that arrives first goes
 * with the start (one start, no signal), anything else asked of the appointment starts it first,
 * a start lost in a crash is made by the reconciler, and while Temporal refuses starts new
 * bookings are refused (503) with nothing held.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { createProcessStarter, type StarterOptions } from '../api/booking/process-starter';
import { countProcessesNotStarted } from '../db/metrics';
import { createLogger } from '../platform/logger';
import { dataConverter } from '../platform/temporal';
import { bookingStatusQuery } from '../workflows/booking';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => { engine = await startTestEngine(); });
afterAll(async () => { await engine.stop(); });

type Json = Record<string, any>;
const logger = createLogger('test', 'silent');
const OPTIONS: StarterOptions = { coalesceMs: 300, concurrency: 4, maxBacklog: 100, reconcileEveryMs: 3_600_000, reconcileAfterSeconds: 15 };
function behindApi(options: Partial<StarterOptions> = {}, temporal: Client = engine.client) {
  const starter = createProcessStarter({ db: engine.db, temporal, taskQueue: engine.config.CLINICAL_TASK_QUEUE }, { ...OPTIONS, ...options }, logger);
  return { starter, app: createApp({ config: engine.config, db: engine.db, temporal, logger, bookingStarter: starter }) };
}
async function call(app: TestEngine['app'], method: string, path: string, token: string, body?: unknown, key = `key-${randomUUID()}`) {
  const init = jsonRequest(method, token, body);
  (init.headers as Record<string, string>)['idempotency-key'] = key;
  const res = await app.request(path, init);
  return { status: res.status, body: (await res.json()) as Json };
}
const registrar = (clinicId: string) => engine.token('registrar', { clinicId });
const processState = (id: string) => engine.client.workflow.getHandle(`booking-${id}`).query(bookingStatusQuery).catch(() => undefined);
const stamp = async (id: string) => (await engine.db.selectFrom('appointments').select('process_started_at').where('id', '=', id).executeTakeFirstOrThrow()).process_started_at;
async function newBooking(day: number, hour: number) {
  const clinic = await makeClinic(engine.db);
  const patientId = await makePatient(engine.db);
  const slot = await makeSlot(engine.db, clinic, daysFromNow(day, hour));
  return { clinic, patientId, slot, token: await registrar(clinic.clinicId) };
}

describe('bookings answered before their processes start', () => {
  test('the hold is answered from Postgres; its process starts behind it and the row is stamped', async () => {
    const { app } = behindApi();
    const b = await newBooking(6, 9);
    const held = await call(app, 'POST', '/appointments', b.token, { slotId: b.slot.id, patientId: b.patientId });
    expect(held).toMatchObject({ status: 201, body: { status: 'held', slotId: b.slot.id } });
    const id = held.body.id as string;
    expect(await stamp(id)).toBeNull(); // answered; the start waits for a confirm that may come with it
    await eventually(async () => (await processState(id))?.status === 'held', 20_000, 'the process holding');
    await eventually(async () => (await stamp(id)) !== null, 10_000, 'the row stamped');
  });

  test('a confirm that arrives before the start goes with it: one start, booked, no signal', async () => {
    const { app } = behindApi({ coalesceMs: 30_000 });
    const b = await newBooking(6, 10);
    const held = await call(app, 'POST', '/appointments', b.token, { slotId: b.slot.id, patientId: b.patientId });
    const id = held.body.id as string;
    expect(await call(app, 'POST', `/appointments/${id}/confirm`, b.token)).toMatchObject({ status: 200, body: { status: 'booked' } });
    await eventually(async () => (await processState(id))?.status === 'booked', 20_000, 'the process booked');
    const handle = engine.client.workflow.getHandle(`booking-${id}`);
    const history = await handle.fetchHistory();
    expect(history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes)).toHaveLength(0);
    expect((await handle.describe()).typedSearchAttributes.get({ name: 'ProcessStatus', type: 'KEYWORD' } as never)).toBe('booked');
    expect(await engine.db.selectFrom('audit_log').select('action').where('entity_id', '=', id).where('entity', '=', 'appointment').orderBy('id').execute()).toEqual([{ action: 'held' }, { action: 'booked' }]);
  });

  test('a cancel before the start finds the process: its start goes first', async () => {
    const { app, starter } = behindApi({ coalesceMs: 60_000 });
    const b = await newBooking(6, 11);
    const id = (await call(app, 'POST', '/appointments', b.token, { slotId: b.slot.id, patientId: b.patientId })).body.id as string;
    expect(starter.has(id)).toBe(true);
    const cancelled = await call(app, 'POST', `/appointments/${id}/cancel`, b.token, { reason: 'patient called' });
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect(starter.has(id)).toBe(false);
    await eventually(async () => (await engine.client.workflow.getHandle(`booking-${id}`).describe()).status.name === 'COMPLETED', 20_000, 'the process ended');
  });

  test('a start lost with its API (a crash after the answer) is made by the reconciler', async () => {
    const crashed = behindApi({ coalesceMs: 3_600_000 }); // never sends it: as good as gone
    const b = await newBooking(7, 9);
    const id = (await call(crashed.app, 'POST', '/appointments', b.token, { slotId: b.slot.id, patientId: b.patientId })).body.id as string;
    expect(await processState(id)).toBeUndefined();
    expect(await countProcessesNotStarted(engine.db)).toBeGreaterThanOrEqual(1); // what ops see on /metrics
    const next = behindApi({ reconcileAfterSeconds: 0 });
    expect(await next.starter.reconcile()).toBeGreaterThanOrEqual(1);
    await eventually(async () => (await processState(id))?.status === 'held', 20_000, 'the process holding');
    await eventually(async () => (await stamp(id)) !== null, 10_000, 'the row stamped');
  });

  test('while Temporal refuses starts, new bookings are refused with nothing held; the answered one starts once it is back', async () => {
    const connection = await Connection.connect({ address: engine.config.TEMPORAL_ADDRESS });
    await connection.close();
    const gone = new Client({ connection, namespace: engine.config.TEMPORAL_NAMESPACE, dataConverter: dataConverter(engine.config) });
    const { app, starter } = behindApi({ coalesceMs: 0 }, gone);
    const first = await newBooking(8, 9);
    const answered = await call(app, 'POST', '/appointments', first.token, { slotId: first.slot.id, patientId: first.patientId });
    expect(answered).toMatchObject({ status: 201, body: { status: 'held' } });
    await eventually(async () => starter.refusal() !== null, 10_000, 'the starter knows Temporal refuses');
    const second = await newBooking(8, 10);
    const refused = await call(app, 'POST', '/appointments', second.token, { slotId: second.slot.id, patientId: second.patientId });
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(await engine.db.selectFrom('appointments').select('id').where('slot_id', '=', second.slot.id).execute()).toEqual([]);
    // Temporal back (an API connected to it): the answered booking's process is started.
    await behindApi({ reconcileAfterSeconds: 0 }).starter.reconcile();
    await eventually(async () => (await processState(answered.body.id))?.status === 'held', 20_000, 'the process holding');
  });
});
