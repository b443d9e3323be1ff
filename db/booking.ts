/** Booking queries: slot generation from weekly schedules. */
import { sql } from 'kysely';
import type { Db } from './index';

/**
 * Turns weekly schedules into slots for local dates [fromDate, toDate] (inclusive, 'YYYY-MM-DD').
 * Postgres does the zone arithmetic (`local timestamp AT TIME ZONE clinic zone`), so slots are
 * correct instants across DST changes. Breaks and leave are skipped; existing slots are kept.
 * Returns the number of new slots.
 */
export async function generateSlots(db: Db, fromDate: string, toDate: string): Promise<number> {
  const result = await sql`
    INSERT INTO slots (practitioner_id, clinic_id, starts_at, ends_at)
    SELECT s.practitioner_id, s.clinic_id,
           t AT TIME ZONE c.time_zone,
           (t + make_interval(mins => s.slot_minutes)) AT TIME ZONE c.time_zone
    FROM schedules s
    JOIN clinics c ON c.id = s.clinic_id
    CROSS JOIN generate_series(${fromDate}::date, ${toDate}::date, interval '1 day') AS d
    CROSS JOIN LATERAL generate_series(
      d + s.start_time,
      d + s.end_time - make_interval(mins => s.slot_minutes),
      make_interval(mins => s.slot_minutes)) AS t
    WHERE extract(isodow FROM d) = s.weekday
      AND d::date >= s.valid_from AND (s.valid_to IS NULL OR d::date <= s.valid_to)
      AND NOT (s.break_start IS NOT NULL
               AND t::time < s.break_end
               AND (t + make_interval(mins => s.slot_minutes))::time > s.break_start)
      AND NOT EXISTS (SELECT 1 FROM schedule_exceptions e
                      WHERE e.practitioner_id = s.practitioner_id AND d::date BETWEEN e.starts_on AND e.ends_on)
    ON CONFLICT (practitioner_id, starts_at) DO NOTHING`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
