import { decreeYear, decreeYears, decreedWorkingDay, yearTotals } from './production-calendar';

describe("Russia's production calendar kept as decree data", () => {
  test('covers 2025–2027, each year with its decree number', () => {
    expect(decreeYears('RU')).toEqual([2025, 2026, 2027]);
    expect(decreeYear('RU', 2025)?.decree.number).toBe('1335');
    expect(decreeYear('RU', 2026)?.decree.number).toBe('1466');
    expect(decreeYear('RU', 2027)?.decree.number).toBe('1187');
    expect(decreeYear('RU', 2028)).toBeNull();
    expect(decreedWorkingDay('RU', '2028-01-10')).toBeNull();
  });

  // Published totals: 2025 and 2026 from their decrees' calendars (247 working days, 118 days off, 1,972 hours on a
  // 40-hour week); 2027 from holidays 0.109 (247 working days) and 4 shortened days.
  test.each([
    [2025, 247, 118, 1972],
    [2026, 247, 118, 1972],
    [2027, 247, 118, 1972],
  ])('%i has %i working days, %i days off and %i hours, as published', (year, workingDays, daysOff, hours40) => {
    expect(yearTotals('RU', year)).toEqual({ workingDays, daysOff, hours40 });
    expect(decreeYear('RU', year)?.published).toMatchObject({ workingDays, daysOff, hours40 });
  });

  test('every transfer moves a weekend day to a weekday, and only a transfer makes a weekend working', () => {
    for (const year of decreeYears('RU')) {
      const data = decreeYear('RU', year)!;
      for (const t of data.transfers) {
        expect([0, 6]).toContain(new Date(`${t.from}T00:00:00Z`).getUTCDay());
        expect([0, 6]).not.toContain(new Date(`${t.to}T00:00:00Z`).getUTCDay());
      }
      for (const d of data.workingWeekends) {
        expect(data.transfers.map((t) => t.from)).toContain(d);
        expect(data.holidays).not.toContain(d);
      }
      for (const d of data.shortenedDays) expect(decreedWorkingDay('RU', d)).toBe(true);
    }
  });
});
