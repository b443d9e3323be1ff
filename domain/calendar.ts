/**
 * A clinic's working calendar: which local dates are working days (not a weekend, not a public
 * holiday of its country/region per the maintained `date-holidays` library, not an extra closure),
 * and deadlines counted in working days or in hours. Pure: the caller passes the start instant.
 * Shared by referral waiting times and lab turnaround deadlines.
 */
import Holidays from 'date-holidays';
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

/** Public holidays of a country/region in one year, as local dates. */
function holidaysIn(country: string, region: string | undefined, year: number): Set<string> {
  const key = `${country}:${region ?? ''}:${year}`;
  let set = publicHolidays.get(key);
  if (!set) {
    const hd = region ? new Holidays(country, region) : new Holidays(country);
    set = new Set(hd.getHolidays(year).filter((h) => h.type === 'public').map((h) => h.date.slice(0, 10)));
    // Russia's Labour Code art. 112: 1–8 January are all non-working (the library lists only some).
    if (country === 'RU') for (let d = 1; d <= 8; d++) set.add(`${year}-01-0${d}`);
    publicHolidays.set(key, set);
  }
  return set;
}

/** True when the local date 'YYYY-MM-DD' is a working day of the clinic. */
export function isWorkingDay(localDate: string, cal: ClinicCalendar): boolean {
  const weekday = new Date(`${localDate}T00:00:00Z`).getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  if (cal.closures.includes(localDate)) return false;
  return !holidaysIn(cal.country, cal.region, Number(localDate.slice(0, 4))).has(localDate);
}

/** The instant a local date begins on the clinic's clock (00:00 there), DST included. */
export function startOfLocalDay(localDate: string, timeZone: string): Date {
  const guess = Date.parse(`${localDate}T00:00:00Z`);
  // Two passes: the zone's offset at the guess, then at the corrected instant (a DST day).
  let instant = guess - offsetMs(guess, timeZone);
  instant = guess - offsetMs(instant, timeZone);
  return new Date(instant);
}

function offsetMs(instant: number, timeZone: string): number {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
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
  let date = localToday(cal.timeZone, start);
  for (let counted = 0; counted < days;) {
    date = addDays(date, 1);
    if (isWorkingDay(date, cal)) counted++;
  }
  return startOfLocalDay(addDays(date, 1), cal.timeZone);
}

/** An hour-based deadline (a GP visit within 24 h, urgent care within 2 h): calendar hours, holidays included. */
export function addHours(start: Date, hours: number): Date {
  return new Date(start.getTime() + hours * 3_600_000);
}

/** How long a referral may wait: working days of the clinic, hours, or seconds (tests). */
export type WaitTime = { workingDays: number } | { hours: number } | { seconds: number };

export function deadlineAfter(start: Date, wait: WaitTime, cal: ClinicCalendar): Date {
  if ('workingDays' in wait) return addWorkingDays(start, wait.workingDays, cal);
  if ('hours' in wait) return addHours(start, wait.hours);
  return new Date(start.getTime() + wait.seconds * 1000);
}
