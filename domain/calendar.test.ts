import {
  addHours,
  addWorkingDays,
  countWorkingDays,
  countedDeadlineAfter,
  deadlineAfter,
  instantOfLocalDateTime,
  isWorkingDay,
  missingDecreeYears,
  startOfLocalDay,
  type ClinicCalendar,
} from './calendar';

const moscow: ClinicCalendar = { timeZone: 'Europe/Moscow', country: 'RU', closures: [] };

describe("a clinic's working calendar", () => {
  test("weekends, Russia's public holidays and the clinic's own closures are not working days", () => {
    expect(isWorkingDay('2026-11-02', moscow)).toBe(true); // Monday
    expect(isWorkingDay('2026-11-07', moscow)).toBe(false); // Saturday
    expect(isWorkingDay('2026-11-04', moscow)).toBe(false); // Unity Day, a Wednesday
    expect(isWorkingDay('2026-01-08', moscow)).toBe(false); // New Year holidays
    expect(isWorkingDay('2026-11-05', { ...moscow, closures: ['2026-11-05'] })).toBe(false);
  });

  test("a local day begins at midnight on the clinic's clock, whatever its zone", () => {
    expect(startOfLocalDay('2026-11-05', 'Europe/Moscow').toISOString()).toBe('2026-11-04T21:00:00.000Z');
    expect(startOfLocalDay('2026-07-01', 'Europe/Berlin').toISOString()).toBe('2026-06-30T22:00:00.000Z');
    expect(startOfLocalDay('2026-03-29', 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z'); // DST starts that night
  });

  test('counts working days across a weekend and the 4 November holiday', () => {
    // Friday 30 Oct 2026, 15:00 Moscow. Working days after it: Mon 2, Tue 3, (Wed 4 holiday), Thu 5.
    const start = new Date('2026-10-30T12:00:00Z');
    expect(addWorkingDays(start, 1, moscow).toISOString()).toBe('2026-11-02T21:00:00.000Z'); // end of Mon 2 Nov
    expect(addWorkingDays(start, 3, moscow).toISOString()).toBe('2026-11-05T21:00:00.000Z'); // end of Thu 5 Nov
  });

  test('an extra closure pushes the deadline a working day further', () => {
    const start = new Date('2026-10-30T12:00:00Z');
    expect(addWorkingDays(start, 3, { ...moscow, closures: ['2026-11-05'] }).toISOString()).toBe('2026-11-06T21:00:00.000Z');
  });

  test('a cancer-suspected referral made on 30 December waits out 31 December and the New Year holidays', () => {
    // Wed 30 Dec 2026: Thu 31 Dec is off (decree No. 1466 moved Sun 4 Jan there); 1–8 Jan 2027 off, 9–10 Jan weekend;
    // Mon 11 Jan (1), Tue 12 Jan (2), Wed 13 Jan (3).
    expect(isWorkingDay('2026-12-31', moscow)).toBe(false);
    expect(isWorkingDay('2027-01-05', moscow)).toBe(false);
    expect(addWorkingDays(new Date('2026-12-30T08:00:00Z'), 3, moscow).toISOString()).toBe('2027-01-13T21:00:00.000Z');
  });

  test('a routine referral made on Monday 14 December 2026 is due at the end of Tuesday 12 January 2027', () => {
    // Counted by hand: Dec 15,16,17,18 (4), 21,22,23,24,25 (9), 28,29,30 (12); Thu 31 Dec off (decree No. 1466);
    // 1–8 Jan 2027 off (art. 112), 9–10 Jan weekend; Mon 11 Jan (13), Tue 12 Jan (14). Midnight Moscow = 21:00 UTC.
    const counted = countWorkingDays(new Date('2026-12-14T09:00:00Z'), 14, moscow);
    expect(counted.deadline.toISOString()).toBe('2027-01-12T21:00:00.000Z');
    expect(counted.yearsWithoutDecree).toEqual([]);
  });

  test("the Government's transfer days are days off, and a decreed Saturday is a working day", () => {
    expect(isWorkingDay('2026-01-09', moscow)).toBe(false); // Sat 3 Jan moved here
    expect(isWorkingDay('2026-05-11', moscow)).toBe(false); // Victory Day on a Saturday
    expect(isWorkingDay('2025-11-01', moscow)).toBe(true); // a working Saturday (decree No. 1335)
    expect(isWorkingDay('2025-11-03', moscow)).toBe(false);
    expect(isWorkingDay('2027-02-20', moscow)).toBe(true); // Sat 20 Feb 2027 works for Mon 22 Feb
    expect(isWorkingDay('2027-02-22', moscow)).toBe(false);
    expect(isWorkingDay('2027-11-05', moscow)).toBe(false); // Sat 2 Jan 2027 moved here
    expect(isWorkingDay('2027-02-20', { ...moscow, closures: ['2027-02-20'] })).toBe(false); // a closure stays on top
  });

  test('a deadline counted into a year without decree data says so instead of counting silently', () => {
    const counted = countWorkingDays(new Date('2027-12-27T09:00:00Z'), 14, moscow);
    expect(counted.yearsWithoutDecree).toEqual([2028]);
    expect(countedDeadlineAfter(new Date('2027-12-27T09:00:00Z'), { hours: 2 }, moscow).yearsWithoutDecree).toEqual([]);
    expect(missingDecreeYears('RU', new Date('2026-12-14T09:00:00Z'))).toEqual([]);
    expect(missingDecreeYears('RU', new Date('2027-03-01T09:00:00Z'))).toEqual([2028]);
    expect(missingDecreeYears('DE', new Date('2027-03-01T09:00:00Z'))).toEqual([]);
    // Another country keeps date-holidays and is not a gap.
    expect(
      countWorkingDays(new Date('2028-12-27T09:00:00Z'), 3, { timeZone: 'Europe/Berlin', country: 'DE', closures: [] }).yearsWithoutDecree,
    ).toEqual([]);
  });

  test('the 14-working-day specialist wait spans almost three calendar weeks', () => {
    const deadline = addWorkingDays(new Date('2026-10-30T12:00:00Z'), 14, moscow);
    // Nov: 2,3,5,6,9,10,11,12,13,16,17,18,19,20 → end of Fri 20 Nov local.
    expect(deadline.toISOString()).toBe('2026-11-20T21:00:00.000Z');
  });

  test('hour-based and second-based waits are plain elapsed time', () => {
    const start = new Date('2026-11-04T10:00:00Z');
    expect(addHours(start, 24).toISOString()).toBe('2026-11-05T10:00:00.000Z');
    expect(deadlineAfter(start, { hours: 2 }, moscow).toISOString()).toBe('2026-11-04T12:00:00.000Z');
    expect(deadlineAfter(start, { seconds: 30 }, moscow).toISOString()).toBe('2026-11-04T10:00:30.000Z');
    expect(deadlineAfter(start, { workingDays: 1 }, moscow).toISOString()).toBe('2026-11-05T21:00:00.000Z');
  });
});

test("a wall-clock time on the clinic's clock is the instant it names there (the roster form's datetime-local)", () => {
  expect(instantOfLocalDateTime('2026-12-10T08:30', 'Europe/Moscow').toISOString()).toBe('2026-12-10T05:30:00.000Z');
  expect(instantOfLocalDateTime('2026-12-10T08:30', 'Asia/Yekaterinburg').toISOString()).toBe('2026-12-10T03:30:00.000Z');
  // A DST zone on both sides of its change.
  expect(instantOfLocalDateTime('2026-03-28T12:00', 'Europe/Berlin').toISOString()).toBe('2026-03-28T11:00:00.000Z');
  expect(instantOfLocalDateTime('2026-03-30T12:00', 'Europe/Berlin').toISOString()).toBe('2026-03-30T10:00:00.000Z');
});
