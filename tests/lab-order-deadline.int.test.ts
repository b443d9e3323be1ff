/** A routine lab order's turnaround is the legal waiting time for diagnostics in its clinic's working days. */
import { isWorkingDay } from '../domain/calendar';
import { routineDeadline } from '../domain/lab-order';
import { addDays, localDateTime } from '../domain/time';
import { createDb, type Db } from '../db';
import { clinicCalendar } from '../db/calendar';
import { buildLabOrderInput } from '../db/lab-order';
import { demoId } from '../db/seed';

let db: Db;
beforeAll(() => { db = createDb(process.env.DATABASE_URL!, 2); });
afterAll(() => db.destroy());

test('a routine order placed before the New Year holidays is due 14 working days later, not 14 calendar days', async () => {
  const orderedAt = '2026-12-25T07:00:00.000Z'; // a Friday morning in Moscow
  const built = await buildLabOrderInput(db, {
    orderId: '00000000-0000-4000-8000-00000000d001', practitionerId: demoId('practitioner:PC-01:0'), patientId: demoId('patient:0'),
    tests: ['2823-3'], priority: 'routine', note: null, orderedAt,
  });
  if (!built.ok) throw new Error(`not built: ${built.missing}`);
  const deadline = built.input.deadlineAt!;
  expect(Date.parse(deadline)).toBeGreaterThan(Date.parse(routineDeadline(orderedAt, 14)));
  // Counted by hand (Moscow): Dec 28, 29, 30 (3); Thu 31 Dec off (decree No. 1466); 1–8 Jan 2027 off; Jan 11–15 (8),
  // Jan 18–22 (13), Mon 25 Jan (14): due when 26 January begins in Moscow.
  expect(deadline).toBe('2027-01-25T21:00:00.000Z');
  // And the clinic's calendar agrees: 14 of its working days from the day after the order to the deadline's local day.
  const cal = await clinicCalendar(db, built.input.clinicId);
  const lastDay = localDateTime(new Date(Date.parse(deadline) - 1), cal.timeZone).slice(0, 10);
  let day = addDays(localDateTime(orderedAt, cal.timeZone).slice(0, 10), 1);
  let working = 0;
  for (; day <= lastDay; day = addDays(day, 1)) if (isWorkingDay(day, cal)) working++;
  expect(working).toBe(14);
  expect(isWorkingDay(lastDay, cal)).toBe(true);
  expect(isWorkingDay('2027-01-05', cal)).toBe(false); // inside the New Year holidays
  expect(isWorkingDay('2026-12-31', cal)).toBe(false); // the decree's transfer day
});

test('a stat order is due one hour after it was placed', async () => {
  const orderedAt = '2026-12-25T07:00:00.000Z';
  const built = await buildLabOrderInput(db, {
    orderId: '00000000-0000-4000-8000-00000000d002', practitionerId: demoId('practitioner:PC-01:0'), patientId: demoId('patient:0'),
    tests: ['2823-3'], priority: 'stat', note: null, orderedAt,
  });
  if (!built.ok) throw new Error('not built');
  expect(built.input.deadlineAt).toBe('2026-12-25T08:00:00.000Z');
});
