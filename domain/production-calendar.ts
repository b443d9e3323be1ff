/**
 * Russia's official production calendar as data (domain/calendar-data/ru.json): per year, the
 * holidays of Labour Code art. 112, the days the Government's decree (or art. 112 itself) moves,
 * the weekend days made working and the shortened days, each year with its decree number. A day
 * is off when it is a holiday, a day a transfer moved a day off to, or a weekend not made working.
 * Pure data and lookups: workflows, activities, db and api may all use it. How to add a year:
 * docs/calendar-and-offers.md; tests/calendar/check_holidays.py checks the data against PyPI `holidays`.
 */
import ru from './calendar-data/ru.json';

export interface DecreeYear {
  decree: { number: string; date: string; title: string; source: string };
  holidays: string[];
  transfers: Array<{ from: string; to: string; by: 'decree' | 'labour-code' }>;
  workingWeekends: string[];
  shortenedDays: string[];
  published: { workingDays: number; daysOff: number; hours40: number; source: string };
  /** Days where this data and the PyPI `holidays` package disagree on purpose, each with why. */
  differsFromHolidaysPackage: Array<{ date: string; why: string }>;
}

/** Countries whose calendar the project keeps as decree data (others use date-holidays). */
const DECREES: Record<string, Record<string, DecreeYear>> = { RU: ru.years as Record<string, DecreeYear> };

const daysOffCache = new Map<string, { off: Set<string>; workingWeekends: Set<string> }>();

/** The decree data of a country's year, or null when the project has none. */
export function decreeYear(country: string, year: number): DecreeYear | null {
  return DECREES[country]?.[String(year)] ?? null;
}

/** Whether the project keeps a country's calendar as decree data at all (then a year without data is a gap). */
export function hasDecreeCalendar(country: string): boolean {
  return DECREES[country] !== undefined;
}

/** The countries whose calendar is kept as decree data. */
export function decreeCountries(): string[] {
  return Object.keys(DECREES);
}

/** The years a country has decree data for, ascending. */
export function decreeYears(country: string): number[] {
  return Object.keys(DECREES[country] ?? {})
    .map(Number)
    .sort((a, b) => a - b);
}

function yearSets(country: string, year: number) {
  const key = `${country}:${year}`;
  let sets = daysOffCache.get(key);
  const data = decreeYear(country, year);
  if (!sets && data) {
    sets = { off: new Set([...data.holidays, ...data.transfers.map((t) => t.to)]), workingWeekends: new Set(data.workingWeekends) };
    daysOffCache.set(key, sets);
  }
  return sets ?? null;
}

/**
 * Whether the local date 'YYYY-MM-DD' is a working day by the decree data, or null when its year
 * has none (the caller falls back and says so).
 */
export function decreedWorkingDay(country: string, localDate: string): boolean | null {
  const sets = yearSets(country, Number(localDate.slice(0, 4)));
  if (!sets) return null;
  if (sets.off.has(localDate)) return false;
  const weekday = new Date(`${localDate}T00:00:00Z`).getUTCDay();
  return (weekday !== 0 && weekday !== 6) || sets.workingWeekends.has(localDate);
}

/** A year's totals counted from the data: working days, days off, and hours on a 40-hour week. */
export function yearTotals(country: string, year: number): { workingDays: number; daysOff: number; hours40: number } | null {
  const data = decreeYear(country, year);
  if (!data) return null;
  let workingDays = 0;
  let daysOff = 0;
  for (let t = Date.UTC(year, 0, 1); new Date(t).getUTCFullYear() === year; t += 86_400_000) {
    if (decreedWorkingDay(country, new Date(t).toISOString().slice(0, 10))) workingDays++;
    else daysOff++;
  }
  return { workingDays, daysOff, hours40: workingDays * 8 - data.shortenedDays.length };
}
