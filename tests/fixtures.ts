/**
 * Records the booking tests make for themselves: a clinic (any zone) with its own booking
 * policy in seconds, practitioners, patients and slots at chosen instants. Fresh per test, so
 * tests running side by side never share a slot or a patient.
 */
import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Db } from '../db';
import type { AppointmentsTable } from '../db/schema/booking';
import { DEFAULT_BOOKING_POLICY, type BookingPolicy } from '../domain/booking';

export interface TestClinic {
  clinicId: string;
  practitionerId: string;
  /** A second practitioner of another specialty in the same clinic. */
  otherPractitionerId: string;
  specialty: string;
}

export async function makeClinic(db: Db, opts: { timeZone?: string; policy?: Partial<BookingPolicy> } = {}): Promise<TestClinic> {
  const clinicId = randomUUID();
  const specialty = `cardiology-${clinicId.slice(0, 8)}`;
  await db
    .insertInto('clinics')
    .values({
      id: clinicId,
      code: `T-${clinicId.slice(0, 8)}`,
      name: 'Test clinic',
      address: 'Test street 1',
      time_zone: opts.timeZone ?? 'Europe/Moscow',
      rollout_stage: 'live',
    })
    .execute();
  const [p1, p2] = await db
    .insertInto('practitioners')
    .values([
      { clinic_id: clinicId, full_name: 'Dr Test', specialty },
      { clinic_id: clinicId, full_name: 'Dr Other', specialty: `neurology-${clinicId.slice(0, 8)}` },
    ])
    .returning('id')
    .execute();
  const p = { ...DEFAULT_BOOKING_POLICY, ...opts.policy };
  await db
    .insertInto('booking_policies')
    .values({
      clinic_id: clinicId,
      horizon_days: p.horizonDays,
      max_active_per_specialty: p.maxActivePerSpecialty,
      hold_seconds: p.holdSeconds,
      offer_hold_seconds: p.offerHoldSeconds,
      reminder_lead_seconds: p.reminderLeadSeconds,
      no_show_grace_seconds: p.noShowGraceSeconds,
    })
    .execute();
  return { clinicId, practitionerId: p1!.id, otherPractitionerId: p2!.id, specialty };
}

/** A clinic whose routine specialist referrals wait `waitSeconds` (a referral_policies row), not working days. */
export async function makeReferralClinic(db: Db, opts: { waitSeconds?: number; escalationShare?: number } = {}): Promise<TestClinic> {
  const clinic = await makeClinic(db);
  await db
    .insertInto('referral_policies')
    .values({
      clinic_id: clinic.clinicId,
      region: null,
      kind: 'specialist',
      urgency: 'routine',
      wait_working_days: null,
      wait_hours: null,
      wait_seconds: opts.waitSeconds ?? 7200,
      escalation_share: opts.escalationShare ?? 0.5,
      acknowledge_seconds: 3600,
      no_show_limit: 2,
      validity_days: 30,
    })
    .execute();
  return clinic;
}

export async function makePatient(db: Db): Promise<string> {
  const row = await db
    .insertInto('patients')
    .values({ full_name: 'Test Patient', birth_date: '1970-05-05', sex: 'female', phone: null, home_clinic_id: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A slot of `minutes` starting at `startsAt` (a Date, or seconds from now). */
export async function makeSlot(
  db: Db,
  clinic: TestClinic,
  startsAt: Date | number,
  minutes = 20,
  practitionerId = clinic.practitionerId,
): Promise<{ id: string; startsAt: Date; endsAt: Date }> {
  const start = typeof startsAt === 'number' ? new Date(Date.now() + startsAt * 1000) : startsAt;
  const end = new Date(start.getTime() + minutes * 60_000);
  const row = await db
    .insertInto('slots')
    .values({ practitioner_id: practitionerId, clinic_id: clinic.clinicId, starts_at: start, ends_at: end })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, startsAt: start, endsAt: end };
}

/**
 * An appointment row in `slot` with no process behind it (for what reads rows only), booked unless `over` says
 * otherwise (status, hold, id, workflow id…); its id.
 */
export async function makeBookedRow(
  db: Db,
  clinic: TestClinic,
  slot: { id: string; startsAt: Date; endsAt: Date },
  patientId: string,
  over: Partial<Insertable<AppointmentsTable>> = {},
) {
  const row = await db
    .insertInto('appointments')
    .values({
      id: randomUUID(),
      slot_id: slot.id,
      patient_id: patientId,
      practitioner_id: clinic.practitionerId,
      clinic_id: clinic.clinicId,
      starts_at: slot.startsAt,
      ends_at: slot.endsAt,
      status: 'booked',
      workflow_id: `test-${randomUUID()}`,
      booked_by: 'test',
      ...over,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A slot lasting `seconds` (for visits that must end within a test). */
export async function makeShortSlot(db: Db, clinic: TestClinic, startsInSeconds: number, seconds: number) {
  const start = new Date(Date.now() + startsInSeconds * 1000);
  const row = await db
    .insertInto('slots')
    .values({
      practitioner_id: clinic.practitionerId,
      clinic_id: clinic.clinicId,
      starts_at: start,
      ends_at: new Date(start.getTime() + seconds * 1000),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, startsAt: start };
}

export const daysFromNow = (days: number, hourUtc = 9) => {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  d.setUTCHours(hourUtc, 0, 0, 0);
  return d;
};
