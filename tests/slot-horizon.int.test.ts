import { randomUUID } from 'node:crypto';
import { createSlotHorizonActivities } from '../activities/slot-horizon';
import { bookingStatusQuery } from '../workflows/booking';
import { ensureSchedule, lapsedHoldsSchedule, SLOT_HORIZON_DAYS, slotHorizonSchedule } from '../workers/schedules';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, processStarted, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

test('a daily Temporal Schedule keeps slots generated ahead, and running it twice adds nothing', async () => {
  // This test's own copy of the production schedule, so other files' workers cannot touch it.
  const options = slotHorizonSchedule(engine.config.CLINICAL_TASK_QUEUE, `slot-horizon-test-${randomUUID()}`);
  expect(await ensureSchedule(engine.client, options)).toBe(true);
  expect(await ensureSchedule(engine.client, options)).toBe(false);
  const handle = engine.client.schedule.getHandle(options.scheduleId);
  const description = await handle.describe();
  expect(description.spec.calendars).toEqual([
    expect.objectContaining({ hour: [{ start: 1, end: 1, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] }),
  ]);
  expect(description.action).toMatchObject({
    type: 'startWorkflow',
    workflowType: 'slotHorizonWorkflow',
    args: [{ days: SLOT_HORIZON_DAYS }],
  });

  // A new practitioner's weekly hours, Monday to Sunday, 08:00–09:00 in 30-minute slots.
  const clinic = await makeClinic(engine.db, { timeZone: 'Asia/Yekaterinburg' });
  await engine.db
    .insertInto('schedules')
    .values(
      [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({
        practitioner_id: clinic.practitionerId,
        clinic_id: clinic.clinicId,
        weekday,
        start_time: '08:00',
        end_time: '09:00',
        slot_minutes: 30,
        break_start: null,
        break_end: null,
        valid_from: '2026-01-01',
        valid_to: null,
      })),
    )
    .execute();
  const count = async () =>
    Number(
      (
        await engine.db
          .selectFrom('slots')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('practitioner_id', '=', clinic.practitionerId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  await handle.trigger();
  // Other test files generate single days city-wide meanwhile (this practitioner's too): wait for the horizon.
  const generated = await eventually(
    async () => {
      const n = await count();
      return n >= 2 * SLOT_HORIZON_DAYS ? n : undefined;
    },
    30_000,
    'generated slots',
  );
  // Two slots a day over the horizon (the window starts a day early to cover every zone's today).
  expect(generated).toBeGreaterThanOrEqual(2 * SLOT_HORIZON_DAYS);
  expect(generated).toBeLessThanOrEqual(2 * (SLOT_HORIZON_DAYS + 3));

  const again = await engine.client.workflow.execute('slotHorizonWorkflow', {
    workflowId: `slot-horizon-again-${Date.now()}`,
    taskQueue: engine.config.CLINICAL_TASK_QUEUE,
    args: [{ days: SLOT_HORIZON_DAYS }],
  });
  // The job is city-wide and other test files add schedules meanwhile: judge it by this practitioner's slots.
  expect(again).toEqual({ slotsAdded: expect.any(Number), slotsClosed: expect.any(Number), overlapsSkipped: expect.any(Number) });
  expect(await count()).toBe(generated);
});

test('a hold whose booking process was terminated is released by the lapsed-holds sweep, and the slot goes to the waitlist', async () => {
  expect(lapsedHoldsSchedule('q')).toMatchObject({
    spec: { intervals: [{ every: '5 minutes' }] },
    action: { args: [{ overdueSeconds: 300 }] },
  });
  const clinic = await makeClinic(engine.db, { policy: { holdSeconds: 1 } });
  const [alice, bob] = [await makePatient(engine.db), await makePatient(engine.db)];
  const slot = await makeSlot(engine.db, clinic, daysFromNow(2));
  const book = async (patientId: string) => {
    const init = jsonRequest('POST', await engine.token('registrar', { clinicId: clinic.clinicId }), { slotId: slot.id, patientId });
    (init.headers as Record<string, string>)['idempotency-key'] = `sweep-${randomUUID()}`;
    const res = await engine.app.request('/appointments', init);
    return { status: res.status, body: (await res.json()) as { id: string } };
  };
  // Carol waits for an earlier visit with this practitioner: the slot the sweep frees is hers to take.
  const carol = await makePatient(engine.db);
  const waitInit = jsonRequest('POST', await engine.token('registrar', { clinicId: clinic.clinicId }), {
    patientId: carol,
    specialty: clinic.specialty,
    practitionerId: clinic.practitionerId,
    wantedBefore: daysFromNow(20).toISOString(),
  });
  (waitInit.headers as Record<string, string>)['idempotency-key'] = `wait-${randomUUID()}`;
  expect((await engine.app.request('/waitlist', waitInit)).status).toBe(201);
  const held = await book(alice);
  expect(held.status).toBe(201);
  await processStarted(engine.db, held.body.id);
  const row = await engine.db.selectFrom('appointments').selectAll().where('id', '=', held.body.id).executeTakeFirstOrThrow();
  await engine.client.workflow.getHandle(row.workflow_id).terminate('ops terminated it');
  // Overdue by more than 3 s: long past when a live process expires its own hold (the hold-expiry
  // test in another file may be running now, and its hold must stay its workflow's to expire).
  await new Promise((r) => setTimeout(r, 4500));
  expect(await book(bob)).toMatchObject({ status: 409 });

  const sweep = await engine.client.workflow.start('lapsedHoldsWorkflow', {
    workflowId: `sweep-${randomUUID()}`,
    taskQueue: engine.config.CLINICAL_TASK_QUEUE,
    args: [{ overdueSeconds: 3 }],
  });
  const result = await sweep.result();
  expect(result).toMatchObject({ released: expect.any(Number), offered: expect.any(Number) });
  expect((result as { offered: number }).offered).toBeGreaterThanOrEqual(1);
  expect(await engine.db.selectFrom('appointments').select('status').where('id', '=', held.body.id).executeTakeFirstOrThrow()).toEqual({
    status: 'expired',
  });
  expect(
    await engine.db
      .selectFrom('audit_log')
      .select('action')
      .where('workflow_id', '=', row.workflow_id)
      .where('action', '=', 'expired-by-sweep')
      .execute(),
  ).toHaveLength(1);
  // A retry of that sweep's release (its commit done, its answer lost) names the same freed slots again.
  const retried = await createSlotHorizonActivities({ db: engine.db }).releaseLapsedHolds({
    overdueSeconds: 3,
    sweepId: sweep.firstExecutionRunId,
  });
  expect(retried.freed).toContainEqual({ appointmentId: held.body.id, slotId: slot.id, clinicId: clinic.clinicId, patientId: alice });

  // The freed slot went to Carol as an offer with its own booking process, not back to whoever is fastest.
  const offer = await engine.db
    .selectFrom('appointments')
    .selectAll()
    .where('slot_id', '=', slot.id)
    .where('status', '=', 'offered')
    .executeTakeFirstOrThrow();
  expect(offer).toMatchObject({ patient_id: carol, booked_by: 'waitlist' });
  const process = await engine.client.workflow.getHandle(offer.workflow_id).query(bookingStatusQuery);
  expect(process).toMatchObject({ status: 'offered', appointment: { patientId: carol, slotId: slot.id } });
  expect(await book(bob)).toMatchObject({ status: 409 });
  const accept = jsonRequest('POST', await engine.token('patient', { id: `patient-${carol}`, patientId: carol }));
  const accepted = await engine.app.request(`/appointments/${offer.id}/confirm`, accept);
  expect({ status: accepted.status, body: await accepted.json() }).toMatchObject({
    status: 200,
    body: { status: 'booked', patientId: carol },
  });
});
