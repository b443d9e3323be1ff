/**
 * Where the engine counts working days without the Government's decree data, ops hear of it: a
 * counter of deadlines counted through such a year (this process), a gauge of the years missing
 * (this year and the next, read at scrape time) and the `calendar` warning on /health. The
 * calendar itself stays pure (domain/calendar.ts names the years); the callers report here.
 */
import { Counter, Gauge } from 'prom-client';
import { missingDecreeYears } from '../domain/calendar';
import { decreeCountries, decreeYears } from '../domain/production-calendar';
import { createLogger } from './logger';
import { metricsRegistry } from './metrics';

const log = createLogger('calendar');
let counted = 0;

const deadlinesWithoutDecree = new Counter({
  name: 'clinical_calendar_deadlines_without_decree_total',
  help: 'Working-day deadlines counted through a year with no decree data (date-holidays fallback), by what and year',
  labelNames: ['what', 'year'],
  registers: [metricsRegistry],
});

new Gauge({
  name: 'clinical_calendar_years_missing',
  help: 'Years (this one and the next) with no production-calendar decree data, by country: add the year (docs/calendar-and-offers.md)',
  labelNames: ['country'],
  registers: [metricsRegistry],
  collect() {
    for (const country of decreeCountries()) this.set({ country }, missingDecreeYears(country, new Date()).length);
  },
});

/** Reports a deadline counted through years without decree data (no ids: what kind, which years). */
export function reportCalendarGaps(what: 'referral' | 'lab-order', yearsWithoutDecree: number[]): void {
  if (yearsWithoutDecree.length === 0) return;
  counted++;
  for (const year of yearsWithoutDecree) deadlinesWithoutDecree.inc({ what, year: String(year) });
  log.warn({ what, years: yearsWithoutDecree }, 'deadline counted without production-calendar decree data: add the year');
}

export interface CalendarHealth {
  /** False when a year is missing or this process counted a deadline without decree data. */
  up: boolean;
  decreeYears: Record<string, number[]>;
  missingYears: Record<string, number[]>;
  deadlinesWithoutDecree: number;
}

/** The calendar part of /health, at `now`. */
export function calendarHealth(now = new Date()): CalendarHealth {
  const countries = decreeCountries();
  const missingYears = Object.fromEntries(countries.map((c) => [c, missingDecreeYears(c, now)]));
  const missing = Object.values(missingYears).some((years) => years.length > 0);
  return {
    up: !missing && counted === 0,
    decreeYears: Object.fromEntries(countries.map((c) => [c, decreeYears(c)])),
    missingYears,
    deadlinesWithoutDecree: counted,
  };
}
