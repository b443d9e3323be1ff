import { randomUUID } from 'node:crypto';
import { ensureSchedule, lapsedHoldsSchedule, SLOT_HORIZON_DAYS, slotHorizonSchedule } from '../workers/schedules';
import { daysFromNow, makeClinic, makePatient, makeSlot } from './fixtures';
import { eventually, jsonRequest, startTestEngine, type TestEngine } from './helpers';

let engine: TestEngine;
beforeAll(async () => { engine = await startTestEngine(); });
afterAll(async () => { await engine.stop(); });

test('a daily Temporal Schedule keeps slots generated ahead, and running it twice adds nothing', async () => {
  // This test's own copy of the production schedule, so other files' workers cannot touch it.
  const options = slotHorizonSchedule(engine.config.CLINICAL_TASK_QUEUE, `slot-horizon-test-${randomUUID()}`);
  expect(await ensureSchedule(engine.client, options)).toBe(true);
  expect(await ensureSchedule(engine.client, options)).toBe(false);
  const handle = engine.client.schedule.getHandle(options.scheduleId);
  const description = await handle.describe();
  expect(description.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 1, end: 1, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] })]);
  expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'slotHorizonWorkflow', args: [{ days: SLOT_HORIZON_DAYS }] });

  // A new practitioner's weekly hours, Monday to Sunday, 08:00–09:00 in 30-minute slots.
  const clinic = await makeClinic(engine.db, { timeZone: 'Asia/Yekaterinburg' });
  await engine.db.insertInto('schedules').values([1, 2, 3, 4, 5, 6, 7].map((weekday) => ({
    practitioner_id: clinic.practitionerId, clinic_id: clinic.clinicId, weekday, start_time: '08:00', end_time: '09:00', slot_minutes: 30,
    break_start: null, break_end: null, valid_from: '2026-01-01', valid_to: null,
  }))).execute();
  const count = async () => Number((await engine.db.selectFrom('slots').select((eb) => eb.fn.countAll<string>().as('n')).where('practitioner_id', '=', clinic.practitionerId).executeTakeFirstOrThrow()).n);

  await handle.trigger();
  const generated = await eventually(async () => { const n = await count(); return n > 0 ? n : undefined; }, 30_000, 'generated slots');
  // Two slots a day over the horizon (the window starts a day early to cover every zone's today).
  expect(generated).toBeGreaterThanOrEqual(2 * SLOT_HORIZON_DAYS);
  expect(generated).toBeLessThanOrEqual(2 * (SLOT_HORIZON_DAYS + 3));

  const again = await engine.client.workflow.execute('slotHorizonWorkflow', { workflowId: `slot-horizon-again-${Date.now()}`, taskQueue: engine.config.CLINICAL_TASK_QUEUE, args: [{ days: SLOT_HORIZON_DAYS }] });
  expect(again).toEqual({ slotsAdded: 0 });
  expect(await count()).toBe(generated);
});

test('a hold whose booking process was terminated is released by the lapsed-holds sweep, and the slot can be booked again', async () => {
  expect(lapsedHoldsSchedule('q')).toMatchObject({ spec: { intervals: [{ every: '5 minutes' }] }, action: { args: [{ overdueSeconds: 300 }] } });
  const clinic = await makeClinic(engine.db, { policy: { holdSeconds: 1 } });
  const [alice, bob] = [await makePatient(engine.db), await makePatient(engine.db)];
  const slot = await makeSlot(engine.db, clinic, daysFromNow(2));
  const book = async (patientId: string) => {
    const init = jsonRequest('POST', await engine.token('registrar'), { slotId: slot.id, patientId });
    (init.headers as Record<string, string>)['idempotency-key'] = `sweep-${randomUUID()}`;
    const res = await engine.app.request('/appointments', init);
    return { status: res.status, body: (await res.json()) as { id: string } };
  };
  const held = await book(alice);
  expect(held.status).toBe(201);
  const row = await engine.db.selectFrom('appointments').selectAll().where('id', '=', held.body.id).executeTakeFirstOrThrow();
  await engine.client.workflow.getHandle(row.workflow_id).terminate('ops terminated it');
  // Overdue by more than 3 s: long past when a live process expires its own hold (the hold-expiry
  // test in another file may be running now, and its hold must stay its workflow's to expire).
  await new Promise((r) => setTimeout(r, 4500));
  expect(await book(bob)).toMatchObject({ status: 409 });

  const result = await engine.client.workflow.execute('lapsedHoldsWorkflow', { workflowId: `sweep-${randomUUID()}`, taskQueue: engine.config.CLINICAL_TASK_QUEUE, args: [{ overdueSeconds: 3 }] });
  expect((result as { released: number }).released).toBeGreaterThanOrEqual(1);
  expect(await engine.db.selectFrom('appointments').select('status').where('id', '=', held.body.id).executeTakeFirstOrThrow()).toEqual({ status: 'expired' });
  expect(await engine.db.selectFrom('audit_log').select('action').where('workflow_id', '=', row.workflow_id).where('action', '=', 'expired-by-sweep').execute()).toHaveLength(1);
  expect((await book(bob)).status).toBe(201);
});
