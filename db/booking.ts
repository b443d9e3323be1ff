/** Booking queries shared by the booking activities and the API. */
import { sql, type Transaction } from 'kysely';
import { DEFAULT_BOOKING_POLICY, LIVE_STATUSES, type AppointmentView, type BookingPolicy } from '../domain/booking';
import { BOOKABLE_STAGES } from '../domain/onboarding';
import type { Db } from './index';
import type { Appointment, Database } from './schema';
import type { BookingPoliciesTable } from './schema/booking';

/** What a slot generation did: slots added, and wanted slots skipped because they overlap another of the practitioner's. */
export interface SlotGeneration {
  added: number;
  overlapsSkipped: number;
}

/**
 * Turns weekly schedules into slots for local dates [fromDate, toDate] (inclusive, 'YYYY-MM-DD').
 * Postgres does the zone arithmetic (`local timestamp AT TIME ZONE clinic zone`), so slots are
 * correct instants across DST changes. Breaks and leave are skipped; existing slots are kept.
 * A practitioner's slots never overlap (slots_practitioner_no_overlap): where two of their
 * schedules overlap, the earlier-starting slot is kept and the other skipped and counted in
 * `overlapsSkipped`, for the caller to report (the schedules need fixing).
 */
export async function generateSlots(db: Db | Transaction<Database>, fromDate: string, toDate: string): Promise<SlotGeneration> {
  const result = await sql<{ added: string; wanted: string }>`
    WITH wanted AS (
      SELECT s.practitioner_id, s.clinic_id,
             t AT TIME ZONE c.time_zone AS starts_at,
             (t + make_interval(mins => s.slot_minutes)) AT TIME ZONE c.time_zone AS ends_at
      FROM schedules s
      JOIN clinics c ON c.id = s.clinic_id
      -- timestamp (not timestamptz) series: wall-clock days, turned into instants per clinic above
      CROSS JOIN generate_series(${fromDate}::timestamp, ${toDate}::timestamp, interval '1 day') AS d
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
    ),
    -- Slots already there (the same practitioner, start and end) are kept, not counted as overlaps.
    fresh AS (
      SELECT w.* FROM wanted w
      WHERE NOT EXISTS (SELECT 1 FROM slots x WHERE x.practitioner_id = w.practitioner_id AND x.starts_at = w.starts_at AND x.ends_at = w.ends_at)
    ),
    -- Any conflict (the same start, or an overlap with an existing or an earlier new slot) is skipped.
    added AS (
      INSERT INTO slots (practitioner_id, clinic_id, starts_at, ends_at)
      SELECT DISTINCT ON (practitioner_id, starts_at, ends_at) practitioner_id, clinic_id, starts_at, ends_at FROM fresh
      ORDER BY practitioner_id, starts_at, ends_at
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM added) AS added, (SELECT count(*) FROM fresh) AS wanted`.execute(db);
  const row = result.rows[0]!;
  const added = Number(row.added);
  return { added, overlapsSkipped: Number(row.wanted) - added };
}

/**
 * Closes the future slots that fall on leave (schedule_exceptions; dates are the clinic's local
 * dates), booked ones included, so a cancel there frees nothing to book or offer. Slots are made
 * ahead of time, so leave entered later needs this as well as generateSlots' own skip.
 * Returns how many slots it closed; a second run closes none.
 */
export async function closeSlotsOnLeave(db: Db | Transaction<Database>, practitionerId?: string): Promise<number> {
  const result = await sql`
    UPDATE slots s SET status = 'busy-unavailable'
    FROM clinics c, schedule_exceptions e
    WHERE c.id = s.clinic_id AND e.practitioner_id = s.practitioner_id
      AND (s.starts_at AT TIME ZONE c.time_zone)::date BETWEEN e.starts_on AND e.ends_on
      AND s.status = 'free' AND s.starts_at > now()
      ${practitionerId ? sql`AND s.practitioner_id = ${practitionerId}` : sql``}`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Records a practitioner's leave on the clinic's local dates [startsOn, endsOn], once (the same
 * dates again return the first record), closes its slots, and lists the live appointments in it,
 * which the registrar must move. One transaction: the leave and the closed slots go together.
 */
export async function recordLeave(db: Db, input: { practitionerId: string; startsOn: string; endsOn: string; reason: string; by: string }) {
  return db.transaction().execute(async (tx) => {
    const inserted = await tx
      .insertInto('schedule_exceptions')
      .values({ practitioner_id: input.practitionerId, starts_on: input.startsOn, ends_on: input.endsOn, reason: input.reason })
      .onConflict((oc) => oc.columns(['practitioner_id', 'starts_on', 'ends_on']).doNothing())
      .returningAll()
      .executeTakeFirst();
    const leave =
      inserted ??
      (await tx
        .selectFrom('schedule_exceptions')
        .selectAll()
        .where('practitioner_id', '=', input.practitionerId)
        .where('starts_on', '=', input.startsOn)
        .where('ends_on', '=', input.endsOn)
        .executeTakeFirstOrThrow());
    if (inserted) {
      await tx
        .insertInto('audit_log')
        .values({
          actor: input.by,
          action: 'leave-recorded',
          entity: 'practitioner',
          entity_id: input.practitionerId,
          workflow_id: null,
          dedupe_key: `leave:${leave.id}`,
          details: JSON.stringify({ startsOn: input.startsOn, endsOn: input.endsOn }),
        })
        .execute();
    }
    const slotsClosed = await closeSlotsOnLeave(tx, input.practitionerId);
    const affected = await tx
      .selectFrom('appointments as a')
      .innerJoin('clinics as c', 'c.id', 'a.clinic_id')
      .selectAll('a')
      .where('a.practitioner_id', '=', input.practitionerId)
      .where('a.status', 'in', ['held', 'offered', 'booked'])
      .where('a.starts_at', '>', sql<Date>`now()`)
      .where(sql<boolean>`(a.starts_at AT TIME ZONE c.time_zone)::date BETWEEN ${input.startsOn}::date AND ${input.endsOn}::date`)
      .orderBy('a.starts_at')
      .execute();
    return { leave, slotsClosed, affected };
  });
}

/** A slot with what booking rules need, and whether a live appointment already has it. */
export async function bookableSlot(db: Db | Transaction<Database>, slotId: string) {
  return db
    .selectFrom('slots as s')
    .innerJoin('practitioners as p', 'p.id', 's.practitioner_id')
    .innerJoin('clinics as c', 'c.id', 's.clinic_id')
    .select([
      's.id',
      's.practitioner_id',
      's.clinic_id',
      's.starts_at',
      's.ends_at',
      's.status',
      'p.specialty',
      'c.rollout_stage',
      'c.time_zone',
    ])
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom('appointments as a')
            .select('a.id')
            .whereRef('a.slot_id', '=', 's.id')
            .where('a.status', 'in', [...LIVE_STATUSES]),
        )
        .as('taken'),
    )
    .where('s.id', '=', slotId)
    .executeTakeFirst();
}

/** Serialises booking decisions for one patient until the transaction ends. */
export async function lockPatient(tx: Transaction<Database>, patientId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${patientId}::text, 0))`.execute(tx);
}

/**
 * Tries the slot's booking lock for this transaction, without waiting: false while another transaction is
 * booking or moving into the slot, so a race's losers are refused at once instead of queueing on the
 * winner's unique-index entry (holding a pool connection each). The key space differs from lockPatient's.
 */
export const tryLockSlotSql = (slotId: string) => sql<boolean>`pg_try_advisory_xact_lock(hashtextextended(${`slot:${slotId}`}::text, 0))`;

/**
 * The API's one read before a booking: the slot (as bookableSlot), whether a live appointment holds it,
 * whether `appointmentId` (the caller's key) already exists, and the clinic's booking policy.
 */
export async function slotForBooking(db: Db, slotId: string, appointmentId: string) {
  const row = await db
    .selectFrom('slots as s')
    .innerJoin('practitioners as p', 'p.id', 's.practitioner_id')
    .innerJoin('clinics as c', 'c.id', 's.clinic_id')
    .leftJoin('booking_policies as bp', 'bp.clinic_id', 's.clinic_id')
    .select([
      's.id',
      's.practitioner_id',
      's.clinic_id',
      's.starts_at',
      's.ends_at',
      's.status',
      'p.specialty',
      'c.rollout_stage',
      'c.time_zone',
    ])
    .select([
      'bp.horizon_days',
      'bp.max_active_per_specialty',
      'bp.hold_seconds',
      'bp.offer_hold_seconds',
      'bp.reminder_lead_seconds',
      'bp.no_show_grace_seconds',
    ])
    .select((eb) => [
      eb
        .exists(
          eb
            .selectFrom('appointments as a')
            .select('a.id')
            .whereRef('a.slot_id', '=', 's.id')
            .where('a.status', 'in', [...LIVE_STATUSES]),
        )
        .as('taken'),
      eb.exists(eb.selectFrom('appointments as m').select('m.id').where('m.id', '=', appointmentId)).as('mine'),
    ])
    .where('s.id', '=', slotId)
    .executeTakeFirst();
  if (!row) return undefined;
  const {
    horizon_days,
    max_active_per_specialty,
    hold_seconds,
    offer_hold_seconds,
    reminder_lead_seconds,
    no_show_grace_seconds,
    ...slot
  } = row;
  const policy = policyOf(
    horizon_days === null
      ? undefined
      : {
          horizon_days,
          max_active_per_specialty: max_active_per_specialty!,
          hold_seconds: hold_seconds!,
          offer_hold_seconds: offer_hold_seconds!,
          reminder_lead_seconds: reminder_lead_seconds!,
          no_show_grace_seconds: no_show_grace_seconds!,
        },
  );
  return { ...slot, policy };
}

export { LIVE_STATUSES };

export function appointmentView(row: Appointment): AppointmentView {
  return {
    appointmentId: row.id,
    status: row.status,
    slotId: row.slot_id,
    patientId: row.patient_id,
    practitionerId: row.practitioner_id,
    clinicId: row.clinic_id,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    holdExpiresAt: row.hold_expires_at ? row.hold_expires_at.toISOString() : null,
  };
}

/** The clinic's booking rules, or the production defaults where it set none. */
export async function bookingPolicy(db: Db, clinicId: string): Promise<BookingPolicy> {
  return policyOf(await db.selectFrom('booking_policies').selectAll().where('clinic_id', '=', clinicId).executeTakeFirst());
}

function policyOf(row: Omit<BookingPoliciesTable, 'clinic_id'> | undefined): BookingPolicy {
  if (!row) return { ...DEFAULT_BOOKING_POLICY };
  return {
    horizonDays: row.horizon_days,
    maxActivePerSpecialty: row.max_active_per_specialty,
    holdSeconds: row.hold_seconds,
    offerHoldSeconds: row.offer_hold_seconds,
    reminderLeadSeconds: row.reminder_lead_seconds,
    noShowGraceSeconds: row.no_show_grace_seconds,
  };
}

export interface SlotSearch {
  from: string;
  to: string;
  specialty?: string;
  practitionerId?: string;
  clinicId?: string;
  /** Resume after this slot (keyset on starts_at, id: the search's own order). */
  after?: { startsAt: string; id: string };
  limit: number;
}

/**
 * `s` is a free future slot between two of the clinic's (`c`) local dates (inclusive). Each
 * clinic's own zone turns its dates into instants, so "25 November" means 25 November on that
 * clinic's wall clock. A UTC window widened by ±14 h lets an index on starts_at narrow the scan first.
 */
function freeInWindow(q: SlotSearch) {
  return sql<boolean>`s.starts_at >= ${q.from}::date - interval '14 hours' AND s.starts_at < ${q.to}::date + interval '38 hours'
    AND s.starts_at >= (${q.from}::date)::timestamp AT TIME ZONE c.time_zone AND s.starts_at < (${q.to}::date + 1)::timestamp AT TIME ZONE c.time_zone
    AND s.starts_at > now() AND s.status = 'free'
    AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status IN (${sql.join([...LIVE_STATUSES])}))
    ${q.after ? sql`AND (s.starts_at, s.id) > (${q.after.startsAt}::timestamptz, ${q.after.id}::uuid)` : sql``}`;
}

const SLOT_COLUMNS = sql`s.id, s.starts_at, s.ends_at, s.practitioner_id, p.full_name AS practitioner_name, p.specialty, s.clinic_id, c.name AS clinic_name, c.time_zone,
  to_char(s.starts_at AT TIME ZONE c.time_zone, 'YYYY-MM-DD"T"HH24:MI') AS local_start`;

interface FoundSlot {
  id: string;
  starts_at: Date;
  ends_at: Date;
  practitioner_id: string;
  practitioner_name: string;
  specialty: string;
  clinic_id: string;
  clinic_name: string;
  time_zone: string;
  local_start: string;
}

/**
 * Free slots, earliest first. Only clinics that reached pilot are bookable (domain/onboarding.ts
 * BOOKABLE_STAGES). By specialty or practitioner, each matching practitioner's own slots are read
 * in time order (the unique (practitioner_id, starts_at) index, at most `limit` each) and merged:
 * a city's year of slots costs the same as a week's. Without either, one scan by time.
 */
export async function searchFreeSlots(db: Db, q: SlotSearch): Promise<FoundSlot[]> {
  const stages = sql.join([...BOOKABLE_STAGES]);
  const clinic = q.clinicId ? sql`AND c.id = ${q.clinicId}` : sql``;
  if (q.specialty !== undefined || q.practitionerId !== undefined) {
    const who = sql.join(
      [
        ...(q.specialty !== undefined ? [sql`p.specialty = ${q.specialty}`] : []),
        ...(q.practitionerId !== undefined ? [sql`p.id = ${q.practitionerId}`] : []),
      ],
      sql` AND `,
    );
    const result = await sql<FoundSlot>`
      SELECT ${SLOT_COLUMNS}
      FROM practitioners p JOIN clinics c ON c.id = p.clinic_id
      CROSS JOIN LATERAL (
        SELECT s.* FROM slots s WHERE s.practitioner_id = p.id AND ${freeInWindow(q)}
        ORDER BY s.starts_at LIMIT ${q.limit}) s
      WHERE ${who} AND c.rollout_stage IN (${stages}) ${clinic}
      ORDER BY s.starts_at, s.id LIMIT ${q.limit}`.execute(db);
    return result.rows;
  }
  const result = await sql<FoundSlot>`
    SELECT ${SLOT_COLUMNS}
    FROM slots s JOIN practitioners p ON p.id = s.practitioner_id JOIN clinics c ON c.id = s.clinic_id
    WHERE ${freeInWindow(q)} AND c.rollout_stage IN (${stages}) ${clinic}
    ORDER BY s.starts_at, s.id LIMIT ${q.limit}`.execute(db);
  return result.rows;
}

/** A patient's appointments, newest visit first. */
export async function patientAppointments(db: Db, patientId: string, limit = 100) {
  return db.selectFrom('appointments').selectAll().where('patient_id', '=', patientId).orderBy('starts_at', 'desc').limit(limit).execute();
}

/** A practitioner's live appointments on one local date of their clinic, in time order. */
export async function practitionerDay(db: Db, practitionerId: string, date: string) {
  return db
    .selectFrom('appointments as a')
    .innerJoin('clinics as c', 'c.id', 'a.clinic_id')
    .selectAll('a')
    .select('c.time_zone')
    .where('a.practitioner_id', '=', practitionerId)
    .where(sql<boolean>`a.starts_at >= (${date}::date)::timestamp AT TIME ZONE c.time_zone`)
    .where(sql<boolean>`a.starts_at < (${date}::date + 1)::timestamp AT TIME ZONE c.time_zone`)
    .where('a.status', 'in', [...LIVE_STATUSES, 'noshow'])
    .orderBy('a.starts_at')
    .execute();
}

/** Stamps appointments whose processes are now known to run (one statement per batch). */
export async function markProcessesStarted(db: Db, appointmentIds: string[]): Promise<void> {
  if (appointmentIds.length === 0) return;
  await db
    .updateTable('appointments')
    .set({ process_started_at: sql`now()` })
    .where('id', 'in', appointmentIds)
    .where('process_started_at', 'is', null)
    .execute();
}

/** Appointments answered more than `olderThanSeconds` ago whose process was never seen started (oldest first). */
export async function unstartedAppointments(db: Db, olderThanSeconds: number, limit: number): Promise<Appointment[]> {
  return db
    .selectFrom('appointments')
    .selectAll()
    .where('process_started_at', 'is', null)
    .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${olderThanSeconds})`)
    .orderBy('created_at')
    .limit(limit)
    .execute();
}
