/** A routine lab order's turnaround is the legal waiting time for diagnostics in its clinic's working days. */
import { isWorkingDay } from '../domain/calendar';
import { createDb, type Db } from '../db';
import { clinicCalendar } from '../db/calendar';
import { buildLabOrderInput } from '../db/lab-order';
import { demoId } from '../db/seed';

let db: Db;
beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!, 2);
});
afterAll(() => db.destroy());

test('a routine order placed before the New Year holidays is due 14 working days later, not 14 calendar days', async () => {
  const orderedAt = '2026-12-25T07:00:00.000Z'; // a Friday morning in Moscow
  const built = await buildLabOrderInput(db, {
    orderId: '00000000-0000-4000-8000-00000000d001',
    practitionerId: demoId('practitioner:PC-01:0'),
    patientId: demoId('patient:0'),
    tests: ['2823-3'],
    priority: 'routine',
    note: null,
    orderedAt,
  });
  if (!built.ok) throw new Error(`not built: ${built.missing}`);
  const deadline = built.input.deadlineAt!;
  // Counted by hand (Moscow): Dec 28, 29, 30 (3); Thu 31 Dec off (decree No. 1466); 1–8 Jan 2027 off; Jan 11–15 (8),
  // Jan 18–22 (13), Mon 25 Jan (14): due when 26 January begins in Moscow (14 calendar days would be 8 January).
  expect(deadline).toBe('2027-01-25T21:00:00.000Z');
  // And the clinic's calendar agrees with the hand count, day by day.
  const cal = await clinicCalendar(db, built.input.clinicId);
  const worked = [
    '2026-12-28',
    '2026-12-29',
    '2026-12-30',
    '2027-01-11',
    '2027-01-12',
    '2027-01-13',
    '2027-01-14',
    '2027-01-15',
    '2027-01-18',
    '2027-01-19',
    '2027-01-20',
    '2027-01-21',
    '2027-01-22',
    '2027-01-25',
  ];
  const off = [
    '2026-12-26',
    '2026-12-27',
    '2026-12-31',
    '2027-01-01',
    '2027-01-04',
    '2027-01-05',
    '2027-01-08',
    '2027-01-09',
    '2027-01-23',
  ];
  expect(worked.filter((d) => !isWorkingDay(d, cal))).toEqual([]);
  expect(off.filter((d) => isWorkingDay(d, cal))).toEqual([]);
});

test('a stat order is due one hour after it was placed', async () => {
  const orderedAt = '2026-12-25T07:00:00.000Z';
  const built = await buildLabOrderInput(db, {
    orderId: '00000000-0000-4000-8000-00000000d002',
    practitionerId: demoId('practitioner:PC-01:0'),
    patientId: demoId('patient:0'),
    tests: ['2823-3'],
    priority: 'stat',
    note: null,
    orderedAt,
  });
  if (!built.ok) throw new Error('not built');
  expect(built.input.deadlineAt).toBe('2026-12-25T08:00:00.000Z');
});
