/** A clinic's working calendar as domain/calendar.ts needs it: zone, country/region, extra closures. */
import type { ClinicCalendar } from '../domain/calendar';
import type { Db } from './index';

/** Clinics without a clinic_calendars row keep Russia's public holidays (the demo city's country). */
export const DEFAULT_COUNTRY = 'RU';

export async function clinicCalendar(db: Db, clinicId: string): Promise<ClinicCalendar> {
  const clinic = await db.selectFrom('clinics as c').leftJoin('clinic_calendars as k', 'k.clinic_id', 'c.id')
    .select(['c.time_zone', 'k.country', 'k.region']).where('c.id', '=', clinicId).executeTakeFirstOrThrow();
  const closures = await db.selectFrom('clinic_closures').select('closed_on').where('clinic_id', '=', clinicId).execute();
  return {
    timeZone: clinic.time_zone, country: clinic.country ?? DEFAULT_COUNTRY,
    ...(clinic.region ? { region: clinic.region } : {}), closures: closures.map((c) => c.closed_on),
  };
}
