/**
 * A clinic's working calendar: which local dates are working days, and deadlines counted in working
 * days or in hours. Russia's days come from the Government's decrees kept as data
 * (domain/production-calendar.ts): holidays, transfers and working Saturdays. Other countries, and a
 * Russian year without decree data, use the maintained `date-holidays` library; such a year is
 * reported to the caller (`yearsWithoutDecree`), never counted silently. The clinic's own closures
 * come on top. Pure: the caller passes the start instant. Shared by referral and lab deadlines.
 */
import Holidays from 'date-holidays';
import { decreedWorkingDay, hasDecreeCalendar } from './production-calendar';
import { addDays, localToday } from './time';

export interface ClinicCalendar {
  /** IANA zone: days begin and end on the clinic's wall clock. */
  timeZone: string;
  /** ISO 3166-1 country code for public holidays, e.g. 'RU'. */
  country: string;
  /** Region (state) code within the country, where holidays differ by region. */
  region?: string;
  /** Extra closed local dates 'YYYY-MM-DD' (clinic_closures). */
  closures: string[];
}

const publicHolidays = new Map<string, Set<string>>();

/** Public holidays of a country/region in one year, as local dates, per date-holidays (the fallback). */
function holidaysIn(country: string, region: string | undefined, year: number): Set<string> {
  const key = `${country}:${region ?? ''}:${year}`;
  let set = publicHolidays.get(key);
  if (!set) {
    const hd = region ? new Holidays(country, region) : new Holidays(country);
    set = new Set(
      hd
        .getHolidays(year)
        .filter((h) => h.type === 'public')
        .map((h) => h.date.slice(0, 10)),
    );
    // Russia's Labour Code art. 112: 1–8 January are all non-working (the library lists only some).
    if (country === 'RU') for (let d = 1; d <= 8; d++) set.add(`${year}-01-0${d}`);
    publicHolidays.set(key, set);
  }
  return set;
}

/** A region's own holidays beyond the country's (e.g. a republic's), per date-holidays. */
function regionalExtras(country: string, region: string, year: number): Set<string> {
  const national = holidaysIn(country, undefined, year);
  return new Set([...holidaysIn(country, region, year)].filter((d) => !national.has(d)));
}

/**
 * Whether the local date is a working day, and whether that answer came from decree data. A
 * country we keep decrees for answers `decreed: false` in a year without data (a gap to report).
 */
export function workingDayOf(localDate: string, cal: ClinicCalendar): { working: boolean; decreed: boolean } {
  const year = Number(localDate.slice(0, 4));
  const closed = cal.closures.includes(localDate);
  const decreed = decreedWorkingDay(cal.country, localDate);
  if (decreed !== null) {
    const regional = cal.region ? regionalExtras(cal.country, cal.region, year).has(localDate) : false;
    return { working: decreed && !closed && !regional, decreed: true };
  }
  const weekday = new Date(`${localDate}T00:00:00Z`).getUTCDay();
  const working = weekday !== 0 && weekday !== 6 && !closed && !holidaysIn(cal.country, cal.region, year).has(localDate);
  return { working, decreed: !hasDecreeCalendar(cal.country) };
}

/** True when the local date 'YYYY-MM-DD' is a working day of the clinic. */
export function isWorkingDay(localDate: string, cal: ClinicCalendar): boolean {
  return workingDayOf(localDate, cal).working;
}

/** The instant a local date begins on the clinic's clock (00:00 there), DST included. */
export function startOfLocalDay(localDate: string, timeZone: string): Date {
  return instantOfLocalDateTime(`${localDate}T00:00`, timeZone);
}

/** The instant a wall-clock time ('YYYY-MM-DDTHH:MM', as a datetime-local field sends it) is on the clinic's clock. */
export function instantOfLocalDateTime(localDateTime: string, timeZone: string): Date {
  const guess = Date.parse(`${localDateTime.slice(0, 16)}:00Z`);
  // Two passes: the zone's offset at the guess, then at the corrected instant (a DST day).
  let instant = guess - offsetMs(guess, timeZone);
  instant = guess - offsetMs(instant, timeZone);
  return new Date(instant);
}

/** One formatter per zone: building an Intl.DateTimeFormat costs ~0.2 ms, using one ~0.003 ms. */
const zoneClocks = new Map<string, Intl.DateTimeFormat>();
function zoneClock(timeZone: string): Intl.DateTimeFormat {
  let f = zoneClocks.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    zoneClocks.set(timeZone, f);
  }
  return f;
}

function offsetMs(instant: number, timeZone: string): number {
  const p = Object.fromEntries(
    zoneClock(timeZone)
      .formatToParts(new Date(instant))
      .map((x) => [x.type, x.value]),
  );
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The deadline `days` working days after `start`: the end of the Nth working day after the start's
 * local date (the instant the next local day begins). The start's own day does not count.
 */
export function addWorkingDays(start: Date, days: number, cal: ClinicCalendar): Date {
  return countWorkingDays(start, days, cal).deadline;
}

/** A deadline and the years it was counted through without decree data (empty when all were decreed). */
export interface CountedDeadline {
  deadline: Date;
  yearsWithoutDecree: number[];
}

/** addWorkingDays, also naming each year counted through that had no decree data. */
export function countWorkingDays(start: Date, days: number, cal: ClinicCalendar): CountedDeadline {
  let date = localToday(cal.timeZone, start);
  const gaps = new Set<number>();
  for (let counted = 0; counted < days;) {
    date = addDays(date, 1);
    const day = workingDayOf(date, cal);
    if (!day.decreed) gaps.add(Number(date.slice(0, 4)));
    if (day.working) counted++;
  }
  return { deadline: startOfLocalDay(addDays(date, 1), cal.timeZone), yearsWithoutDecree: [...gaps].sort((a, b) => a - b) };
}

/** An hour-based deadline (a GP visit within 24 h, urgent care within 2 h): calendar hours, holidays included. */
export function addHours(start: Date, hours: number): Date {
  return new Date(start.getTime() + hours * 3_600_000);
}

/** How long a referral may wait: working days of the clinic, hours, or seconds (tests). */
export type WaitTime = { workingDays: number } | { hours: number } | { seconds: number };

export function deadlineAfter(start: Date, wait: WaitTime, cal: ClinicCalendar): Date {
  return countedDeadlineAfter(start, wait, cal).deadline;
}

/** deadlineAfter, naming the years counted through without decree data (only working-day waits count days). */
export function countedDeadlineAfter(start: Date, wait: WaitTime, cal: ClinicCalendar): CountedDeadline {
  if ('workingDays' in wait) return countWorkingDays(start, wait.workingDays, cal);
  if ('hours' in wait) return { deadline: addHours(start, wait.hours), yearsWithoutDecree: [] };
  return { deadline: new Date(start.getTime() + wait.seconds * 1000), yearsWithoutDecree: [] };
}

/**
 * The years among `now`'s year and the next that a country we keep decrees for has no data for:
 * a deadline counted into them would fall back to date-holidays. Empty for other countries.
 */
export function missingDecreeYears(country: string, now: Date): number[] {
  if (!hasDecreeCalendar(country)) return [];
  const year = now.getUTCFullYear();
  return [year, year + 1].filter((y) => decreedWorkingDay(country, `${y}-06-01`) === null);
}
