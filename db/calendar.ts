/** A clinic's working calendar as domain/calendar.ts needs it: zone, country/region, extra closures. */
import type { ClinicCalendar } from '../domain/calendar';
import type { Db } from './index';

/** Clinics without a clinic_calendars row keep Russia's public holidays (the demo city's country). */
export const DEFAULT_COUNTRY = 'RU';

/**
 * The clinic's calendar at instant `at` (default now): the clinic_calendar_versions row in force
 * then (set through the admin API), else its clinic_calendars row, else Russia. Closures are
 * always the current set: a deadline computed now sees every closure added so far.
 */
export async function clinicCalendar(db: Db, clinicId: string, at: Date = new Date()): Promise<ClinicCalendar> {
  const clinic = await db
    .selectFrom('clinics as c')
    .leftJoin('clinic_calendars as k', 'k.clinic_id', 'c.id')
    .select(['c.time_zone', 'k.country', 'k.region'])
    .where('c.id', '=', clinicId)
    .executeTakeFirstOrThrow();
  const version = await db
    .selectFrom('clinic_calendar_versions')
    .select(['country', 'region'])
    .where('clinic_id', '=', clinicId)
    .where('effective_from', '<=', at)
    .orderBy('effective_from', 'desc')
    .limit(1)
    .executeTakeFirst();
  const closures = await db.selectFrom('clinic_closures').select('closed_on').where('clinic_id', '=', clinicId).execute();
  const country = version ? version.country : (clinic.country ?? DEFAULT_COUNTRY);
  const region = version ? version.region : clinic.region;
  return { timeZone: clinic.time_zone, country, ...(region ? { region } : {}), closures: closures.map((c) => c.closed_on) };
}
