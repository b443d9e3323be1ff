/**
 * The booking hot path: Postgres decides a booking and the API answers from the committed row;
 * the process starts right behind it. Refusals cost no process, the registrar books and confirms
 * in one call, a confirm reaches the process through the outbox, and an API that cannot reach
 * Temporal still books (the clinical worker's relay starts the process).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { createLogger } from '../platform/logger';
import { dataConverter } from '../platform/temporal';
import { bookingStatusQuery } from '../workflows/booking';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

type Json = Record<string, any>;
const registrar = (clinicId: string) => engine.token('registrar', { clinicId });
async function call(app: TestEngine['app'], method: string, path: string, token: string, body?: unknown, key = `key-${randomUUID()}`) {
  const init = jsonRequest(method, token, body);
  (init.headers as Record<string, string>)['idempotency-key'] = key;
  const res = await app.request(path, init);
  return { status: res.status, body: (await res.json()) as Json };
}
const processState = (appointmentId: string) => engine.client.workflow.getHandle(`booking-${appointmentId}`).query(bookingStatusQuery);
const processesOf = async (patientId: string) => {
  const ids: string[] = [];
  for await (const wf of engine.client.workflow.list({ query: `WorkflowType = 'bookingWorkflow' AND PatientId = '${patientId}'` }))
    ids.push(wf.workflowId);
  return ids;
};
const auditActions = async (appointmentId: string) =>
  (
    await engine.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_id', '=', appointmentId)
      .where('entity', '=', 'appointment')
      .orderBy('id')
      .execute()
  ).map((r) => r.action);

describe('booking hot path', () => {
  test('a registrar books and confirms in one call: answered booked, the process keeps its timers from booked', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(6, 9));
    const key = `desk-${randomUUID()}`;
    const res = await call(
      engine.app,
      'POST',
      '/appointments',
      await registrar(clinic.clinicId),
      { slotId: slot.id, patientId, confirm: true },
      key,
    );
    expect(res).toMatchObject({ status: 201, body: { status: 'booked', fhirStatus: 'booked', holdExpiresAt: null, slotId: slot.id } });
    const id = res.body.id as string;
    expect(
      await engine.db.selectFrom('appointments').select(['status', 'hold_expires_at']).where('id', '=', id).executeTakeFirstOrThrow(),
    ).toEqual({ status: 'booked', hold_expires_at: null });
    expect(await auditActions(id)).toEqual(['held', 'booked']);
    await eventually(async () => (await processState(id).catch(() => undefined))?.status === 'booked', 20_000, 'the process booked');
    // The same call again (a retry) answers the same appointment and books nothing more.
    const retried = await call(
      engine.app,
      'POST',
      '/appointments',
      await registrar(clinic.clinicId),
      { slotId: slot.id, patientId, confirm: true },
      key,
    );
    expect([retried.status, retried.body.id]).toEqual([201, id]);
    expect(await engine.db.selectFrom('appointments').select('id').where('patient_id', '=', patientId).execute()).toHaveLength(1);
  });

  test('a confirm reaches the process as a signal; the process goes from held to booked', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(6, 10));
    const held = await call(engine.app, 'POST', '/appointments', await registrar(clinic.clinicId), { slotId: slot.id, patientId });
    expect(held).toMatchObject({ status: 201, body: { status: 'held' } });
    const id = held.body.id as string;
    await eventually(async () => (await processState(id).catch(() => undefined))?.status === 'held', 20_000, 'the process holding');
    const confirmed = await call(engine.app, 'POST', `/appointments/${id}/confirm`, await registrar(clinic.clinicId));
    expect(confirmed).toMatchObject({ status: 200, body: { status: 'booked' } });
    await eventually(async () => (await processState(id)).status === 'booked', 20_000, 'the process booked');
    // Confirming again changes nothing and is answered with the booking.
    expect(await call(engine.app, 'POST', `/appointments/${id}/confirm`, await registrar(clinic.clinicId))).toMatchObject({
      status: 200,
      body: { status: 'booked' },
    });
    expect(await auditActions(id)).toEqual(['held', 'booked']);
  });

  test('many clients race for one slot: one wins, every loser is refused by Postgres and starts no process', async () => {
    const clinic = await makeClinic(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(7, 9));
    const patients = await Promise.all(Array.from({ length: 20 }, () => makePatient(engine.db)));
    const token = await registrar(clinic.clinicId);
    const answers = await Promise.all(
      patients.map((patientId) => call(engine.app, 'POST', '/appointments', token, { slotId: slot.id, patientId })),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409 && a.body.error.code === 'slot_taken')).toHaveLength(patients.length - 1);
    const winner = patients[answers.findIndex((a) => a.status === 201)]!;
    await eventually(async () => (await processesOf(winner)).length === 1, 20_000, "the winner's process listed");
    for (const loser of patients.filter((p) => p !== winner)) expect(await processesOf(loser)).toEqual([]);
  });

  test('an API that cannot reach Temporal still books: the answer comes from Postgres and the relay starts the process', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(8, 9));
    // An API whose Temporal connection is gone (closed), over the same database.
    const connection = await Connection.connect({ address: engine.config.TEMPORAL_ADDRESS });
    await connection.close();
    const broken = createApp({
      config: engine.config,
      db: engine.db,
      temporal: new Client({ connection, namespace: engine.config.TEMPORAL_NAMESPACE, dataConverter: dataConverter(engine.config) }),
      logger: createLogger('test', 'silent'),
    });
    const key = `key-${randomUUID()}`;
    const token = await registrar(clinic.clinicId);
    const held = await call(broken, 'POST', '/appointments', token, { slotId: slot.id, patientId }, key);
    expect(held).toMatchObject({ status: 201, body: { status: 'held', slotId: slot.id } });
    const confirmed = await call(broken, 'POST', `/appointments/${held.body.id}/confirm`, token);
    expect(confirmed).toMatchObject({ status: 200, body: { status: 'booked' } });
    await eventually(
      async () => (await processState(held.body.id).catch(() => undefined))?.status === 'booked',
      20_000,
      'the process booked',
    );
    const again = await call(engine.app, 'POST', '/appointments', token, { slotId: slot.id, patientId }, key);
    expect(again).toMatchObject({ status: 201, body: { id: held.body.id, status: 'booked' } });
  });
});
