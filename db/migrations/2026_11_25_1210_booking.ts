import { type Kysely, sql } from 'kysely';

const LIVE = sql.raw(`('held', 'offered', 'booked', 'arrived', 'fulfilled')`);

/**
 * Appointments, each clinic's booking rules, the waitlist and the notification outbox.
 * The database itself makes double booking impossible, of a slot and of a patient.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('appointments')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('slot_id', 'uuid', (c) => c.notNull().references('slots.id'))
    .addColumn('patient_id', 'uuid', (c) => c.notNull().references('patients.id'))
    .addColumn('practitioner_id', 'uuid', (c) => c.notNull().references('practitioners.id'))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
    // held: a patient's hold awaiting confirmation; offered: a hold the waitlist gave a patient.
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('held', 'offered', 'booked', 'arrived', 'fulfilled', 'cancelled', 'noshow', 'expired')`),
    )
    .addColumn('hold_expires_at', 'timestamptz')
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('booked_by', 'text', (c) => c.notNull())
    .addColumn('cancel_reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One live appointment per slot: a lost race fails on this index, whatever the code did.
  await sql`CREATE UNIQUE INDEX appointments_slot_live_uniq ON appointments (slot_id) WHERE status IN ${LIVE}`.execute(db);
  // A patient is never in two places at once, across practitioners and clinics.
  await sql`ALTER TABLE appointments ADD CONSTRAINT appointments_patient_no_overlap
    EXCLUDE USING gist (patient_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (status IN ${LIVE})`.execute(db);
  await db.schema.createIndex('appointments_patient_start_idx').on('appointments').columns(['patient_id', 'starts_at']).execute();
  await db.schema.createIndex('appointments_practitioner_start_idx').on('appointments').columns(['practitioner_id', 'starts_at']).execute();
  // Slot search by date across a city's clinics.
  await db.schema.createIndex('slots_start_idx').on('slots').column('starts_at').execute();

  // Rules each clinic sets; a clinic without a row uses the production defaults in workflows/booking.ts.
  await db.schema
    .createTable('booking_policies')
    .addColumn('clinic_id', 'uuid', (c) => c.primaryKey().references('clinics.id'))
    .addColumn('horizon_days', 'integer', (c) => c.notNull().check(sql`horizon_days > 0`))
    .addColumn('max_active_per_specialty', 'integer', (c) => c.notNull().check(sql`max_active_per_specialty > 0`))
    .addColumn('hold_seconds', 'integer', (c) => c.notNull().check(sql`hold_seconds > 0`))
    .addColumn('offer_hold_seconds', 'integer', (c) => c.notNull().check(sql`offer_hold_seconds > 0`))
    .addColumn('reminder_lead_seconds', 'integer', (c) => c.notNull().check(sql`reminder_lead_seconds >= 0`))
    .addColumn('no_show_grace_seconds', 'integer', (c) => c.notNull().check(sql`no_show_grace_seconds >= 0`))
    .execute();

  await db.schema
    .createTable('waitlist_entries')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('patient_id', 'uuid', (c) => c.notNull().references('patients.id'))
    .addColumn('specialty', 'text', (c) => c.notNull())
    .addColumn('practitioner_id', 'uuid', (c) => c.references('practitioners.id'))
    .addColumn('clinic_id', 'uuid', (c) => c.references('clinics.id'))
    // Only slots that start before this instant are offered (an earlier visit than the one they have).
    .addColumn('wanted_before', 'timestamptz', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('waiting', 'offered', 'booked', 'cancelled')`))
    .addColumn('offered_appointment_id', 'uuid', (c) => c.references('appointments.id'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('waitlist_waiting_idx').on('waitlist_entries').columns(['status', 'specialty', 'created_at']).execute();

  // Messages to patients (reminders, offers); a delivery service reads this outbox.
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('patient_id', 'uuid', (c) => c.notNull().references('patients.id'))
    .addColumn('appointment_id', 'uuid', (c) => c.references('appointments.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('reminder', 'waitlist-offer', 'cancelled', 'rescheduled')`))
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
