/** What the pages show beside ids: names of clinics, practitioners and patients, and the search form's choices. */
import { sql } from 'kysely';
import { BOOKABLE_STAGES } from '../domain/onboarding';
import type { Db } from './index';

export interface ClinicName {
  id: string;
  name: string;
  timeZone: string;
}
export interface PractitionerName {
  id: string;
  name: string;
  specialty: string;
}

/** Clinics that take bookings, by name. */
export async function bookableClinics(db: Db): Promise<ClinicName[]> {
  const rows = await db
    .selectFrom('clinics')
    .select(['id', 'name', 'time_zone'])
    .where('rollout_stage', 'in', [...BOOKABLE_STAGES])
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, timeZone: r.time_zone }));
}

/** Specialties with practitioners at a bookable clinic (or at this one). */
export async function bookableSpecialties(db: Db, clinicId?: string): Promise<string[]> {
  const rows = await db
    .selectFrom('practitioners as p')
    .innerJoin('clinics as c', 'c.id', 'p.clinic_id')
    .select('p.specialty')
    .distinct()
    .where('c.rollout_stage', 'in', [...BOOKABLE_STAGES])
    .$if(clinicId !== undefined, (q) => q.where('c.id', '=', clinicId!))
    .orderBy('p.specialty')
    .execute();
  return rows.map((r) => r.specialty);
}

/** Names for the clinics and practitioners these rows name. */
export async function namesFor(db: Db, ids: { clinicIds: string[]; practitionerIds: string[] }) {
  const clinicIds = [...new Set(ids.clinicIds)];
  const practitionerIds = [...new Set(ids.practitionerIds)];
  const [clinics, practitioners] = await Promise.all([
    clinicIds.length ? db.selectFrom('clinics').select(['id', 'name', 'time_zone']).where('id', 'in', clinicIds).execute() : [],
    practitionerIds.length
      ? db.selectFrom('practitioners').select(['id', 'full_name', 'specialty']).where('id', 'in', practitionerIds).execute()
      : [],
  ]);
  return {
    clinics: new Map(clinics.map((c) => [c.id, { id: c.id, name: c.name, timeZone: c.time_zone } satisfies ClinicName])),
    practitioners: new Map(
      practitioners.map((p) => [p.id, { id: p.id, name: p.full_name, specialty: p.specialty } satisfies PractitionerName]),
    ),
  };
}

/** A patient's own name (the page header greets them). */
export async function patientName(db: Db, patientId: string): Promise<string | undefined> {
  return (await db.selectFrom('patients').select('full_name').where('id', '=', patientId).executeTakeFirst())?.full_name;
}

/** A patient's waitlist entries that still wait or hold an offer, soonest wanted first. */
export async function patientWaitlist(db: Db, patientId: string) {
  return db
    .selectFrom('waitlist_entries')
    .selectAll()
    .where('patient_id', '=', patientId)
    .where('status', 'in', ['waiting', 'offered'])
    .orderBy('wanted_before')
    .limit(50)
    .execute();
}

/** The slot's clinic, specialty and local date: where to look for the next one when it is taken. */
export async function slotContext(db: Db, slotId: string) {
  return db
    .selectFrom('slots as s')
    .innerJoin('practitioners as p', 'p.id', 's.practitioner_id')
    .innerJoin('clinics as c', 'c.id', 's.clinic_id')
    .select(['s.clinic_id', 'p.specialty', sql<string>`to_char(s.starts_at AT TIME ZONE c.time_zone, 'YYYY-MM-DD')`.as('local_date')])
    .where('s.id', '=', slotId)
    .executeTakeFirst();
}

/** The diagnosis the doctor recorded on a visit, if any (the visit page shows it once completed). */
export async function visitDiagnosis(db: Db, appointmentId: string) {
  return db.selectFrom('visit_diagnoses').select(['code', 'title']).where('appointment_id', '=', appointmentId).executeTakeFirst();
}

/** Patients' names by id (the doctor's day list names whom each visit is for). */
export async function patientNames(db: Db, ids: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const rows = unique.length ? await db.selectFrom('patients').select(['id', 'full_name']).where('id', 'in', unique).execute() : [];
  return new Map(rows.map((r) => [r.id, r.full_name]));
}

/** The practitioner's clinic and its zone (whose "today" the doctor's day list shows). */
export async function practitionerClinic(db: Db, practitionerId: string) {
  return db
    .selectFrom('practitioners as p')
    .innerJoin('clinics as c', 'c.id', 'p.clinic_id')
    .select(['c.id as clinicId', 'c.time_zone as timeZone', 'c.name as clinicName'])
    .where('p.id', '=', practitionerId)
    .executeTakeFirst();
}
