import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import { generateSlots } from '../db/booking';
import { dataConverter } from '../platform/temporal';
import { bookingStatusQuery } from '../workflows/booking';
import { daysFromNow, makeClinic, makePatient, makeShortSlot, makeSlot, type TestClinic } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';
import { processMetricsSinks } from '../workers/metrics';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

type Json = Record<string, any>;
/** A registrar of the clinic (registrars act only for the clinic(s) on their token). */
const registrar = (clinicId: string) => engine.token('registrar', { clinicId });
/** The slot's clinic; a slot that does not exist is refused (404) before any clinic is looked at. */
const slotClinic = async (slotId: string) =>
  (/^[0-9a-f-]{36}$/i.test(slotId)
    ? await engine.db.selectFrom('slots').select('clinic_id').where('id', '=', slotId).executeTakeFirst()
    : undefined
  )?.clinic_id ?? '00000000-0000-4000-8000-000000000000';
const patientToken = (patientId: string) => engine.token('patient', { id: `patient-${patientId}`, patientId });

async function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<{ status: number; body: Json }> {
  const init = jsonRequest(method, token, body);
  if (idempotencyKey) (init.headers as Record<string, string>)['idempotency-key'] = idempotencyKey;
  const res = await engine.app.request(path, init);
  return { status: res.status, body: (await res.json()) as Json };
}
const book = async (slotId: string, patientId: string, token?: string, key = `key-${randomUUID()}`) =>
  call('POST', '/appointments', token ?? (await registrar(await slotClinic(slotId))), { slotId, patientId }, key);
const appointmentRow = (id: string) => engine.db.selectFrom('appointments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const statusBecomes = (id: string, status: string, timeoutMs = 20_000) =>
  eventually(async () => (await appointmentRow(id)).status === status, timeoutMs, `appointment ${status}`);
/** What the appointment's process itself says (queries answer after it has ended, too). */
const processState = (appointmentId: string) => engine.client.workflow.getHandle(`booking-${appointmentId}`).query(bookingStatusQuery);
/** Booking processes that ops would find in the Temporal UI with this filter, once visibility has caught up to `count`. */
async function listed(filter: string, count: number): Promise<string[]> {
  let ids: string[] = [];
  await eventually(
    async () => {
      ids = [];
      for await (const wf of engine.client.workflow.list({ query: `WorkflowType = 'bookingWorkflow' AND ${filter}` }))
        ids.push(wf.workflowId);
      return ids.length === count;
    },
    15_000,
    `${count} process(es) where ${filter}`,
  );
  return ids;
}
const auditActions = async (workflowId: string) =>
  (await engine.db.selectFrom('audit_log').select('action').where('workflow_id', '=', workflowId).orderBy('id').execute()).map(
    (r) => r.action,
  );

describe('appointment booking', () => {
  test('a patient books, confirms, is reminded, checks in and the visit is fulfilled', async () => {
    const clinic = await makeClinic(engine.db, { policy: { reminderLeadSeconds: 4, noShowGraceSeconds: 20 } });
    const patientId = await makePatient(engine.db);
    const slot = await makeShortSlot(engine.db, clinic, 6, 3);

    const booked = await book(slot.id, patientId, await patientToken(patientId));
    expect(booked.status).toBe(201);
    expect(booked.body).toMatchObject({ status: 'held', fhirStatus: 'pending', slotId: slot.id, patientId, clinicId: clinic.clinicId });
    expect(Date.parse(booked.body.holdExpiresAt)).toBeGreaterThan(Date.now());
    const id = booked.body.id as string;

    const confirmed = await call('POST', `/appointments/${id}/confirm`, await patientToken(patientId));
    expect(confirmed).toMatchObject({ status: 200, body: { status: 'booked', fhirStatus: 'booked', holdExpiresAt: null } });

    // The reminder goes out reminderLeadSeconds before the visit, once.
    await eventually(
      () =>
        engine.db
          .selectFrom('notifications')
          .selectAll()
          .where('appointment_id', '=', id)
          .where('kind', '=', 'reminder')
          .executeTakeFirst(),
      15_000,
      'reminder',
    );
    const checkIn = await call('POST', `/appointments/${id}/check-in`, await registrar(clinic.clinicId));
    expect(checkIn).toMatchObject({ status: 202, body: { id, accepted: true } });
    await statusBecomes(id, 'arrived');
    await statusBecomes(id, 'fulfilled');

    const row = await appointmentRow(id);
    const state = await engine.client.workflow.getHandle(row.workflow_id).query(bookingStatusQuery);
    expect(state).toMatchObject({ status: 'fulfilled', reminderSent: true });
    expect(await auditActions(row.workflow_id)).toEqual(['held', 'booked', 'arrived', 'fulfilled']);
    const reminders = await engine.db
      .selectFrom('notifications')
      .select('id')
      .where('appointment_id', '=', id)
      .where('kind', '=', 'reminder')
      .execute();
    expect(reminders).toHaveLength(1);
  });

  test('a retried booking request with the same Idempotency-Key returns the same appointment and books once', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(3));
    const token = await registrar(clinic.clinicId);
    const [first, second] = await Promise.all([
      book(slot.id, patientId, token, 'same-key-123'),
      book(slot.id, patientId, token, 'same-key-123'),
    ]);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);
    const rows = await engine.db.selectFrom('appointments').select('id').where('slot_id', '=', slot.id).execute();
    expect(rows).toHaveLength(1);
  });

  test('cancelling frees the slot: search shows it again and another patient can book it', async () => {
    const clinic = await makeClinic(engine.db);
    const [alice, bob] = [await makePatient(engine.db), await makePatient(engine.db)];
    const slot = await makeSlot(engine.db, clinic, daysFromNow(4, 8));
    const { body: a } = await book(slot.id, alice);
    await call('POST', `/appointments/${a.id}/confirm`, await registrar(clinic.clinicId));
    const date = slot.startsAt.toISOString().slice(0, 10);
    const search = async () =>
      (
        await call('GET', `/slots?from=${date}&to=${date}&practitionerId=${clinic.practitionerId}`, await registrar(clinic.clinicId))
      ).body.slots.map((s: Json) => s.id);
    expect(await search()).not.toContain(slot.id);

    const cancelled = await call('POST', `/appointments/${a.id}/cancel`, await patientToken(alice), { reason: 'feeling better' });
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled', fhirStatus: 'cancelled' } });
    expect(await appointmentRow(a.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'feeling better' });
    expect(await search()).toContain(slot.id);
    expect(await processState(a.id)).toMatchObject({ status: 'cancelled', appointment: { status: 'cancelled' } });
    expect((await book(slot.id, bob)).status).toBe(201);

    const again = await call('POST', `/appointments/${a.id}/confirm`, await registrar(clinic.clinicId));
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });
  });

  test('rescheduling moves the visit atomically and a lost race leaves the patient their old slot', async () => {
    const clinic = await makeClinic(engine.db);
    const [alice, bob] = [await makePatient(engine.db), await makePatient(engine.db)];
    const [a, b, c] = [
      await makeSlot(engine.db, clinic, daysFromNow(5, 7)),
      await makeSlot(engine.db, clinic, daysFromNow(5, 8)),
      await makeSlot(engine.db, clinic, daysFromNow(5, 9)),
    ];
    const { body: appt } = await book(a.id, alice);
    await call('POST', `/appointments/${appt.id}/confirm`, await registrar(clinic.clinicId));
    expect((await book(c.id, bob)).status).toBe(201);

    const moved = await call(
      'POST',
      `/appointments/${appt.id}/reschedule`,
      await registrar(clinic.clinicId),
      { slotId: b.id },
      `move-${randomUUID()}`,
    );
    expect(moved).toMatchObject({ status: 200, body: { id: appt.id, slotId: b.id, status: 'booked', startsAt: b.startsAt.toISOString() } });
    const date = a.startsAt.toISOString().slice(0, 10);
    const free = (
      await call('GET', `/slots?from=${date}&to=${date}&practitionerId=${clinic.practitionerId}`, await registrar(clinic.clinicId))
    ).body.slots.map((s: Json) => s.id);
    expect(free).toContain(a.id);
    expect(free).not.toContain(b.id);
    expect(await processState(appt.id)).toMatchObject({
      status: 'booked',
      appointment: { slotId: b.id, startsAt: b.startsAt.toISOString() },
    });

    const lost = await call(
      'POST',
      `/appointments/${appt.id}/reschedule`,
      await registrar(clinic.clinicId),
      { slotId: c.id },
      `move-${randomUUID()}`,
    );
    expect(lost).toMatchObject({ status: 409, body: { error: { code: 'slot_taken' } } });
    expect(await appointmentRow(appt.id)).toMatchObject({ slot_id: b.id, status: 'booked' });
    expect(await processState(appt.id)).toMatchObject({ status: 'booked', appointment: { slotId: b.id } });
  });

  test("an unconfirmed hold lapses after the clinic's hold time and can no longer be confirmed", async () => {
    const clinic = await makeClinic(engine.db, { policy: { holdSeconds: 2 } });
    const patientId = await makePatient(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(2));
    const { body } = await book(slot.id, patientId);
    await statusBecomes(body.id, 'expired', 15_000);
    const late = await call('POST', `/appointments/${body.id}/confirm`, await registrar(clinic.clinicId));
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });
    expect(await auditActions(`booking-${body.id}`)).toEqual(['held', 'expired']);
    expect(await processState(body.id)).toMatchObject({ status: 'expired', appointment: { holdExpiresAt: null } });
  });

  test('a booked patient who does not check in within the grace period is marked no-show', async () => {
    const clinic = await makeClinic(engine.db, { policy: { reminderLeadSeconds: 1, noShowGraceSeconds: 1 } });
    const patientId = await makePatient(engine.db);
    const slot = await makeShortSlot(engine.db, clinic, 3, 60);
    const { body } = await book(slot.id, patientId);
    await call('POST', `/appointments/${body.id}/confirm`, await registrar(clinic.clinicId));
    await statusBecomes(body.id, 'noshow', 15_000);
    const late = await call('POST', `/appointments/${body.id}/check-in`, await registrar(clinic.clinicId));
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });
    await eventually(async () => (await processState(body.id)).status === 'noshow', 10_000, 'process says noshow');
    expect(await processState(body.id)).toMatchObject({ status: 'noshow', reminderSent: true });
  });

  test('a cancelled slot is offered to the first waiting patient with a timed hold, who accepts it', async () => {
    const clinic = await makeClinic(engine.db, { policy: { offerHoldSeconds: 120 } });
    const [alice, walter, wendy] = [await makePatient(engine.db), await makePatient(engine.db), await makePatient(engine.db)];
    const slot = await makeSlot(engine.db, clinic, daysFromNow(6));
    const wait = async (patientId: string) =>
      call(
        'POST',
        '/waitlist',
        await patientToken(patientId),
        {
          patientId,
          specialty: clinic.specialty,
          practitionerId: clinic.practitionerId,
          wantedBefore: daysFromNow(20).toISOString(),
        },
        `wait-${randomUUID()}`,
      );
    expect((await wait(walter)).status).toBe(201);
    expect((await wait(wendy)).status).toBe(201);

    const { body: a } = await book(slot.id, alice);
    await call('POST', `/appointments/${a.id}/confirm`, await registrar(clinic.clinicId));
    await call('POST', `/appointments/${a.id}/cancel`, await registrar(clinic.clinicId), { reason: 'clinic closed' });

    const offer = await eventually(
      () =>
        engine.db.selectFrom('appointments').selectAll().where('slot_id', '=', slot.id).where('status', '=', 'offered').executeTakeFirst(),
      10_000,
      'offer',
    );
    expect(offer).toMatchObject({ patient_id: walter, booked_by: 'waitlist' });
    expect(offer.hold_expires_at!.getTime()).toBeGreaterThan(Date.now() + 60_000);
    expect(await engine.db.selectFrom('notifications').select('kind').where('appointment_id', '=', offer.id).execute()).toEqual([
      { kind: 'waitlist-offer' },
    ]);

    const own = await call('GET', `/appointments/${offer.id}`, await patientToken(walter));
    expect(own.body).toMatchObject({ status: 'offered', fhirStatus: 'proposed' });
    const accepted = await call('POST', `/appointments/${offer.id}/confirm`, await patientToken(walter));
    expect(accepted).toMatchObject({ status: 200, body: { status: 'booked', slotId: slot.id } });
    // Postgres answered; the process hears of it through the outbox right after.
    await eventually(async () => (await processState(offer.id)).status === 'booked', 20_000, "the offer's process booked");
    expect(await processState(offer.id)).toMatchObject({ status: 'booked', appointment: { patientId: walter, slotId: slot.id } });
    const entries = await engine.db
      .selectFrom('waitlist_entries')
      .select(['patient_id', 'status'])
      .where('specialty', '=', clinic.specialty)
      .orderBy('created_at')
      .execute();
    expect(entries).toEqual([
      { patient_id: walter, status: 'booked' },
      { patient_id: wendy, status: 'waiting' },
    ]);
  });

  test('50 concurrent requests for one slot: exactly one appointment, 49 × 409 slot_taken, no orphan holds', async () => {
    const clinic = await makeClinic(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(7));
    const patients = await Promise.all(Array.from({ length: 50 }, () => makePatient(engine.db)));
    const token = await registrar(clinic.clinicId);
    const results = await Promise.all(patients.map((p) => book(slot.id, p, token)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'slot_taken')).toBe(true);
    const rows = await engine.db.selectFrom('appointments').select(['id', 'status']).where('slot_id', '=', slot.id).execute();
    expect(rows).toEqual([{ id: results.find((r) => r.status === 201)!.body.id, status: 'held' }]);
  });

  test('a patient is never in two places: an overlapping visit with another practitioner is refused', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const start = daysFromNow(8, 10);
    const first = await makeSlot(engine.db, clinic, start, 20);
    const overlapping = await makeSlot(engine.db, clinic, new Date(start.getTime() + 10 * 60_000), 20, clinic.otherPractitionerId);
    expect((await book(first.id, patientId)).status).toBe(201);
    const second = await book(overlapping.id, patientId);
    expect(second).toMatchObject({ status: 409, body: { error: { code: 'patient_busy' } } });
  });

  test("the clinic's limit of active bookings per specialty is enforced", async () => {
    const clinic = await makeClinic(engine.db, { policy: { maxActivePerSpecialty: 1 } });
    const patientId = await makePatient(engine.db);
    const [s1, s2] = [await makeSlot(engine.db, clinic, daysFromNow(9)), await makeSlot(engine.db, clinic, daysFromNow(10))];
    expect((await book(s1.id, patientId)).status).toBe(201);
    const refused = await book(s2.id, patientId);
    expect(refused).toMatchObject({ status: 422, body: { error: { code: 'too_many_bookings' } } });
    // Postgres refused it before any process started: the patient has one process, the booked one.
    expect(await listed(`PatientId = '${patientId}'`, 1)).toEqual([
      `booking-${(await engine.db.selectFrom('appointments').select('id').where('patient_id', '=', patientId).executeTakeFirstOrThrow()).id}`,
    ]);
    expect(await engine.db.selectFrom('appointments').select('id').where('slot_id', '=', s2.id).execute()).toEqual([]);
  });

  test('an Idempotency-Key reused for a different booking is refused, not answered with the first booking', async () => {
    const clinic = await makeClinic(engine.db);
    const [p1, p2] = [await makePatient(engine.db), await makePatient(engine.db)];
    const [s1, s2] = [await makeSlot(engine.db, clinic, daysFromNow(3, 7)), await makeSlot(engine.db, clinic, daysFromNow(3, 8))];
    const token = await registrar(clinic.clinicId);
    expect((await book(s1.id, p1, token, 'reused-key-42')).status).toBe(201);
    expect(await book(s2.id, p2, token, 'reused-key-42')).toMatchObject({
      status: 409,
      body: { error: { code: 'idempotency_key_reused' } },
    });
    expect(await engine.db.selectFrom('appointments').select('patient_id').where('slot_id', 'in', [s1.id, s2.id]).execute()).toEqual([
      { patient_id: p1 },
    ]);
  });

  test('check-in opens two hours before the visit, not days ahead', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(3));
    const { body } = await book(slot.id, patientId);
    await call('POST', `/appointments/${body.id}/confirm`, await registrar(clinic.clinicId));
    expect(await call('POST', `/appointments/${body.id}/check-in`, await registrar(clinic.clinicId))).toMatchObject({
      status: 409,
      body: { error: { code: 'invalid_state' } },
    });
    expect((await appointmentRow(body.id)).status).toBe('booked');
  });

  test('confirm, two reschedules and a cancel sent at once are applied one at a time, and the history replays', async () => {
    const clinic = await makeClinic(engine.db, { policy: { maxActivePerSpecialty: 10 } });
    const patientId = await makePatient(engine.db);
    const [a, b, c] = [
      await makeSlot(engine.db, clinic, daysFromNow(4, 7)),
      await makeSlot(engine.db, clinic, daysFromNow(4, 8)),
      await makeSlot(engine.db, clinic, daysFromNow(4, 9)),
    ];
    const { body } = await book(a.id, patientId);
    const token = await registrar(clinic.clinicId);
    const results = await Promise.all([
      call('POST', `/appointments/${body.id}/confirm`, token),
      call('POST', `/appointments/${body.id}/reschedule`, token, { slotId: b.id }, `r-${randomUUID()}`),
      call('POST', `/appointments/${body.id}/reschedule`, token, { slotId: c.id }, `r-${randomUUID()}`),
      call('POST', `/appointments/${body.id}/cancel`, token, { reason: 'changed plans' }),
    ]);
    const [confirmed, toB, toC, cancelled] = results;
    // Nothing before a cancel can refuse it; whatever comes after it is refused as invalid_state.
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    for (const r of [confirmed!, toB!, toC!])
      if (r.status !== 200) expect(r).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });
    const row = await appointmentRow(body.id);
    const history = await engine.client.workflow.getHandle(row.workflow_id).fetchHistory();
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
        dataConverter: dataConverter(engine.config),
        sinks: processMetricsSinks(),
      },
      history,
    );
    // Whatever order won, the database and the process agree on cancelled, and no slot is left held.
    expect(row.status).toBe('cancelled');
    expect((await engine.client.workflow.getHandle(row.workflow_id).query(bookingStatusQuery)).appointment?.status).toBe('cancelled');
    const live = await engine.db
      .selectFrom('appointments')
      .select('slot_id')
      .where('patient_id', '=', patientId)
      .where('status', 'in', ['held', 'booked'])
      .execute();
    expect(live).toEqual([]);
    const actions = await auditActions(row.workflow_id);
    // The audit names exactly the calls answered 200.
    expect(actions.filter((a) => a === 'booked')).toHaveLength(confirmed!.status === 200 ? 1 : 0);
    expect(actions.filter((a) => a === 'rescheduled')).toHaveLength([toB!, toC!].filter((r) => r.status === 200).length);
    expect(actions.filter((a) => a === 'cancelled')).toHaveLength(1);
    expect(new Set(actions).size).toBe(actions.filter((x) => x !== 'rescheduled').length + (actions.includes('rescheduled') ? 1 : 0));
  });

  test('search attributes follow the process, so ops can filter bookings by clinic, patient and status', async () => {
    const clinic = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const slot = await makeSlot(engine.db, clinic, daysFromNow(5, 11));
    const { body } = await book(slot.id, patientId);
    const ours = `ClinicId = '${clinic.clinicId}' AND PatientId = '${patientId}'`;
    expect(await listed(`${ours} AND ProcessStatus = 'held'`, 1)).toEqual([`booking-${body.id}`]);
    await call('POST', `/appointments/${body.id}/confirm`, await registrar(clinic.clinicId));
    expect(await listed(`${ours} AND ProcessStatus = 'booked'`, 1)).toEqual([`booking-${body.id}`]);
    await call('POST', `/appointments/${body.id}/cancel`, await registrar(clinic.clinicId), { reason: 'test' });
    expect(await listed(`${ours} AND ProcessStatus = 'cancelled'`, 1)).toEqual([`booking-${body.id}`]);
    expect(await listed(`${ours} AND ProcessStatus = 'booked'`, 0)).toEqual([]);
  });

  test('cancel and reschedule are refused once the visit has started', async () => {
    const clinic = await makeClinic(engine.db, { policy: { reminderLeadSeconds: 1, noShowGraceSeconds: 120 } });
    const patientId = await makePatient(engine.db);
    const slot = await makeShortSlot(engine.db, clinic, 3, 300);
    const later = await makeSlot(engine.db, clinic, daysFromNow(3, 10));
    const { body } = await book(slot.id, patientId);
    expect((await call('POST', `/appointments/${body.id}/confirm`, await registrar(clinic.clinicId))).status).toBe(200);
    await new Promise((r) => setTimeout(r, Math.max(0, slot.startsAt.getTime() - Date.now()) + 300));
    const cancel = await call('POST', `/appointments/${body.id}/cancel`, await registrar(clinic.clinicId), { reason: 'too late' });
    expect(cancel).toMatchObject({ status: 409, body: { error: { code: 'invalid_state', message: expect.stringContaining('started') } } });
    const move = await call(
      'POST',
      `/appointments/${body.id}/reschedule`,
      await registrar(clinic.clinicId),
      { slotId: later.id },
      `late-${randomUUID()}`,
    );
    expect(move).toMatchObject({ status: 409, body: { error: { code: 'invalid_state', message: expect.stringContaining('started') } } });
    expect(await appointmentRow(body.id)).toMatchObject({ status: 'booked', slot_id: slot.id });
    expect(await processState(body.id)).toMatchObject({ status: 'booked', appointment: { slotId: slot.id } });
    // Check-in is what is left to do.
    expect((await call('POST', `/appointments/${body.id}/check-in`, await registrar(clinic.clinicId))).status).toBe(202);
    await statusBecomes(body.id, 'arrived');
  });

  test('a reschedule stays in the clinic, and a reschedule key reused for another slot is refused', async () => {
    const clinic = await makeClinic(engine.db);
    const elsewhere = await makeClinic(engine.db);
    const patientId = await makePatient(engine.db);
    const [a, b, c] = [
      await makeSlot(engine.db, clinic, daysFromNow(6, 7)),
      await makeSlot(engine.db, clinic, daysFromNow(6, 8)),
      await makeSlot(engine.db, clinic, daysFromNow(6, 9)),
    ];
    const away = await makeSlot(engine.db, elsewhere, daysFromNow(6, 10));
    const { body } = await book(a.id, patientId);
    const registrarToken = await registrar(clinic.clinicId);
    const moveTo = (slotId: string, key: string) => call('POST', `/appointments/${body.id}/reschedule`, registrarToken, { slotId }, key);
    expect(await moveTo(away.id, `away-${randomUUID()}`)).toMatchObject({ status: 422, body: { error: { code: 'other_clinic' } } });
    expect(await moveTo(b.id, 'move-key-0001')).toMatchObject({ status: 200, body: { slotId: b.id } });
    expect(await moveTo(b.id, 'move-key-0001')).toMatchObject({ status: 200, body: { slotId: b.id } });
    expect(await moveTo(c.id, 'move-key-0001')).toMatchObject({ status: 409, body: { error: { code: 'idempotency_key_reused' } } });
    expect(await appointmentRow(body.id)).toMatchObject({ slot_id: b.id, clinic_id: clinic.clinicId });
    expect(await auditActions(`booking-${body.id}`)).toEqual(['held', 'rescheduled']);
  });

  test('leave entered after slots exist closes them, keeps them out of search and booking, and lists the visits to move', async () => {
    const clinic = await makeClinic(engine.db);
    const [alice, walter] = [await makePatient(engine.db), await makePatient(engine.db)];
    const [booked, free, nextDay] = [
      await makeSlot(engine.db, clinic, daysFromNow(10, 7)),
      await makeSlot(engine.db, clinic, daysFromNow(10, 8)),
      await makeSlot(engine.db, clinic, daysFromNow(11, 8)),
    ];
    const { body: visit } = await book(booked.id, alice);
    await call('POST', `/appointments/${visit.id}/confirm`, await registrar(clinic.clinicId));
    // Walter waits for this practitioner: a slot on leave must not be offered to him.
    await call(
      'POST',
      '/waitlist',
      await registrar(clinic.clinicId),
      {
        patientId: walter,
        specialty: clinic.specialty,
        practitionerId: clinic.practitionerId,
        wantedBefore: daysFromNow(30).toISOString(),
      },
      `w-${randomUUID()}`,
    );
    const day = daysFromNow(10).toISOString().slice(0, 10); // 07:00–08:00 UTC is the same date in Moscow

    const leave = { startsOn: day, endsOn: day, reason: 'annual leave' };
    const recorded = await call('POST', `/practitioners/${clinic.practitionerId}/leave`, await registrar(clinic.clinicId), leave);
    expect(recorded).toMatchObject({
      status: 201,
      body: {
        practitionerId: clinic.practitionerId,
        startsOn: day,
        endsOn: day,
        slotsClosed: 2,
        appointmentsToMove: [{ id: visit.id, status: 'booked' }],
      },
    });
    const again = await call('POST', `/practitioners/${clinic.practitionerId}/leave`, await registrar(clinic.clinicId), leave);
    expect(again).toMatchObject({ status: 201, body: { id: recorded.body.id, slotsClosed: 0 } });
    expect(
      await engine.db.selectFrom('schedule_exceptions').select('id').where('practitioner_id', '=', clinic.practitionerId).execute(),
    ).toHaveLength(1);

    const search = async (d: string) =>
      (
        await call('GET', `/slots?from=${d}&to=${d}&practitionerId=${clinic.practitionerId}`, await registrar(clinic.clinicId))
      ).body.slots.map((x: Json) => x.id);
    expect(await search(day)).toEqual([]);
    expect(await search(daysFromNow(11).toISOString().slice(0, 10))).toEqual([nextDay.id]);
    expect(await book(free.id, walter)).toMatchObject({ status: 409, body: { error: { code: 'slot_unavailable' } } });
    // The registrar cancels the visit on leave: its slot stays closed and nobody is offered it.
    expect(
      (await call('POST', `/appointments/${visit.id}/cancel`, await registrar(clinic.clinicId), { reason: 'doctor on leave' })).status,
    ).toBe(200);
    // The process ends only once it has dealt with the freed slot: by then an offer would have been made.
    expect(await engine.client.workflow.getHandle(`booking-${visit.id}`).result()).toMatchObject({ status: 'cancelled' });
    expect(await engine.db.selectFrom('appointments').select('id').where('patient_id', '=', walter).execute()).toEqual([]);

    expect(
      await call('POST', `/practitioners/${clinic.practitionerId}/leave`, await registrar(clinic.clinicId), {
        ...leave,
        endsOn: daysFromNow(9).toISOString().slice(0, 10),
      }),
    ).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(await call('POST', `/practitioners/${randomUUID()}/leave`, await registrar(clinic.clinicId), leave)).toMatchObject({
      status: 404,
      body: { error: { code: 'practitioner_not_found' } },
    });
    expect(await call('POST', `/practitioners/${clinic.practitionerId}/leave`, await patientToken(alice), leave)).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
  });

  test('refuses bad input with a clear 4xx and its code, and writes nothing', async () => {
    const clinic = await makeClinic(engine.db, { policy: { horizonDays: 30 } });
    const patientId = await makePatient(engine.db);
    const past = await makeSlot(engine.db, clinic, -3600);
    const far = await makeSlot(engine.db, clinic, daysFromNow(45));
    const token = await registrar(clinic.clinicId);
    expect(await book(randomUUID(), patientId)).toMatchObject({ status: 404, body: { error: { code: 'slot_not_found' } } });
    expect(await book(past.id, patientId)).toMatchObject({ status: 422, body: { error: { code: 'slot_in_past' } } });
    expect(await book(far.id, patientId)).toMatchObject({ status: 422, body: { error: { code: 'beyond_booking_horizon' } } });
    expect(await book(far.id, randomUUID())).toMatchObject({ status: 422, body: { error: { code: 'beyond_booking_horizon' } } });
    const ok = await makeSlot(engine.db, clinic, daysFromNow(2));
    expect(await book(ok.id, randomUUID())).toMatchObject({ status: 404, body: { error: { code: 'patient_not_found' } } });
    expect(await book('not-a-uuid', patientId)).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(await call('POST', '/appointments', token, { slotId: ok.id, patientId })).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed' } },
    });
    expect(await call('POST', '/appointments', token, '{"slotId": ', 'key-malformed-1')).toMatchObject({
      status: 400,
      body: { error: { code: 'malformed_json' } },
    });
    expect(await call('GET', '/slots?from=2026-02-30&to=2026-03-01', token)).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed' } },
    });
    expect(await call('GET', '/slots?from=25.11.2026&to=2026-11-26', token)).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed' } },
    });
    expect(await call('GET', '/appointments/123', token)).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(await call('GET', '/slots?from=0000-01-01&to=0000-01-02', token)).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed' } },
    });
    const waitFor = (extra: object) =>
      call(
        'POST',
        '/waitlist',
        token,
        { patientId, specialty: clinic.specialty, wantedBefore: daysFromNow(9).toISOString(), ...extra },
        `w-${randomUUID()}`,
      );
    expect(await waitFor({ practitionerId: randomUUID() })).toMatchObject({
      status: 404,
      body: { error: { code: 'practitioner_not_found' } },
    });
    expect(await waitFor({ clinicId: randomUUID() })).toMatchObject({ status: 404, body: { error: { code: 'clinic_not_found' } } });
    // A patient cannot book for someone else.
    const other = await makePatient(engine.db);
    expect(await book(ok.id, other, await patientToken(patientId))).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const written = await engine.db.selectFrom('appointments').select('id').where('clinic_id', '=', clinic.clinicId).execute();
    expect(written).toEqual([]);
  });
});

describe("slot search in each clinic's own time zone", () => {
  let ny: TestClinic;
  beforeAll(async () => {
    ny = await makeClinic(engine.db, { timeZone: 'America/New_York' });
  });

  test('a search for a local date returns that wall-clock day in New York, never the day before or after', async () => {
    const day = daysFromNow(5).toISOString().slice(0, 10);
    const next = daysFromNow(6).toISOString().slice(0, 10);
    // 23:30 on `day` in New York is 04:30 or 03:30 UTC on `next`, depending on DST: Postgres's
    // tz database gives the instant, whatever the season the test runs in.
    const nyInstant = async (local: string) =>
      (await sql<{ at: Date }>`SELECT (${local}::timestamp AT TIME ZONE 'America/New_York') AS at`.execute(engine.db)).rows[0]!.at;
    const lateEvening = await makeSlot(engine.db, ny, await nyInstant(`${day} 23:30`));
    const earlyMorning = await makeSlot(engine.db, ny, await nyInstant(`${next} 00:30`));
    expect(lateEvening.startsAt.toISOString().slice(0, 10)).toBe(next);
    const search = async (d: string) =>
      (await call('GET', `/slots?from=${d}&to=${d}&clinicId=${ny.clinicId}`, await registrar(ny.clinicId))).body.slots as Json[];
    const onDay = await search(day);
    expect(onDay.map((s) => s.id)).toContain(lateEvening.id);
    expect(onDay.map((s) => s.id)).not.toContain(earlyMorning.id);
    expect(onDay.find((s) => s.id === lateEvening.id)).toMatchObject({ timeZone: 'America/New_York', localStart: `${day}T23:30` });
    expect((await search(next)).map((s) => s.id)).toEqual([earlyMorning.id]);
    // The appointment and the patient's list say the clinic's wall-clock time too.
    const patientId = await makePatient(engine.db);
    const booked = await book(lateEvening.id, patientId);
    expect(booked).toMatchObject({ status: 201, body: { localStart: `${day}T23:30`, timeZone: 'America/New_York' } });
    const list = (await call('GET', `/patients/${patientId}/appointments`, await registrar(ny.clinicId))).body.appointments as Json[];
    expect(list).toMatchObject([{ id: booked.body.id, localStart: `${day}T23:30`, timeZone: 'America/New_York' }]);
  });

  test("weekly schedules generate slots at the clinic's local hours, as correct instants", async () => {
    const day = daysFromNow(12).toISOString().slice(0, 10);
    const weekday = ((new Date(`${day}T12:00:00Z`).getUTCDay() + 6) % 7) + 1;
    await engine.db
      .insertInto('schedules')
      .values({
        practitioner_id: ny.practitionerId,
        clinic_id: ny.clinicId,
        weekday,
        start_time: '09:00',
        end_time: '10:00',
        slot_minutes: 20,
        break_start: '09:20',
        break_end: '09:40',
        valid_from: day,
        valid_to: day,
      })
      .execute();
    await generateSlots(engine.db, day, day);
    const slots = (await call('GET', `/slots?from=${day}&to=${day}&clinicId=${ny.clinicId}`, await registrar(ny.clinicId))).body
      .slots as Json[];
    // 09:00 and 09:40 local; 09:20 falls in the break.
    expect(slots.map((s) => s.localStart)).toEqual([`${day}T09:00`, `${day}T09:40`]);
    const offsetHours = (Date.parse(slots[0]!.startsAt) - Date.parse(`${day}T09:00:00Z`)) / 3_600_000;
    expect([4, 5]).toContain(offsetHours);
  });
});
