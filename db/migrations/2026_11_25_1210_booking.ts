import { type Kysely, sql } from 'kysely';

/** Appointments. The database itself makes double booking impossible. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('appointments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('slot_id', 'uuid', (c) => c.notNull().references('slots.id'))
    .addColumn('patient_id', 'uuid', (c) => c.notNull().references('patients.id'))
    .addColumn('practitioner_id', 'uuid', (c) => c.notNull().references('practitioners.id'))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('held', 'booked', 'arrived', 'fulfilled', 'cancelled', 'noshow', 'expired')`),
    )
    .addColumn('hold_expires_at', 'timestamptz')
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('booked_by', 'text', (c) => c.notNull())
    .addColumn('cancel_reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One live appointment per slot: a lost race fails on this index, whatever the code did.
  await sql`CREATE UNIQUE INDEX appointments_slot_live_uniq ON appointments (slot_id)
    WHERE status IN ('held', 'booked', 'arrived', 'fulfilled')`.execute(db);
  // A patient is never in two places at once, across practitioners and clinics.
  await sql`ALTER TABLE appointments ADD CONSTRAINT appointments_patient_no_overlap
    EXCLUDE USING gist (patient_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
    WHERE (status IN ('held', 'booked', 'arrived', 'fulfilled'))`.execute(db);
  await db.schema.createIndex('appointments_patient_start_idx').on('appointments').columns(['patient_id', 'starts_at']).execute();
  await db.schema.createIndex('appointments_practitioner_start_idx').on('appointments').columns(['practitioner_id', 'starts_at']).execute();
  await db.schema.createIndex('appointments_workflow_idx').on('appointments').column('workflow_id').execute();
}
