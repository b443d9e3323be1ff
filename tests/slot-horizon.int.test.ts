import { randomUUID } from 'node:crypto';
import { ensureSchedule, SLOT_HORIZON_DAYS, slotHorizonSchedule } from '../workers/schedules';
import { makeClinic } from './fixtures';
import { eventually, startTestEngine, type TestEngine } from './helpers';

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
