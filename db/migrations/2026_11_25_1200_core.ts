import { type Kysely, sql } from 'kysely';

/** Reference data every process shares: clinics, people, schedules, slots and the lab catalogue. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS btree_gist`.execute(db);

  await db.schema
    .createTable('clinics')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('is_pilot', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('rollout_stage', 'text', (c) =>
      c
        .notNull()
        .defaultTo('preparation')
        .check(sql`rollout_stage IN ('preparation', 'pilot', 'live')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('practitioners')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('full_name', 'text', (c) => c.notNull())
    .addColumn('specialty', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('practitioners_clinic_specialty_idx').on('practitioners').columns(['clinic_id', 'specialty']).execute();

  await db.schema
    .createTable('patients')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('full_name', 'text', (c) => c.notNull())
    .addColumn('birth_date', 'date', (c) => c.notNull())
    .addColumn('sex', 'text', (c) => c.notNull().check(sql`sex IN ('female', 'male', 'other', 'unknown')`))
    .addColumn('phone', 'text')
    .addColumn('home_clinic_id', 'uuid', (c) => c.references('clinics.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Weekly working hours; weekday is ISO (1 = Monday), times are the clinic's local times.
  await db.schema
    .createTable('schedules')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('practitioner_id', 'uuid', (c) => c.notNull().references('practitioners.id'))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('weekday', 'smallint', (c) => c.notNull().check(sql`weekday BETWEEN 1 AND 7`))
    .addColumn('start_time', 'time', (c) => c.notNull())
    .addColumn('end_time', 'time', (c) => c.notNull())
    .addColumn('slot_minutes', 'smallint', (c) => c.notNull().check(sql`slot_minutes > 0`))
    .addColumn('break_start', 'time')
    .addColumn('break_end', 'time')
    .addColumn('valid_from', 'date', (c) => c.notNull())
    .addColumn('valid_to', 'date')
    .addCheckConstraint('schedules_hours_check', sql`start_time < end_time`)
    .execute();

  await db.schema
    .createTable('schedule_exceptions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('practitioner_id', 'uuid', (c) => c.notNull().references('practitioners.id'))
    .addColumn('starts_on', 'date', (c) => c.notNull())
    .addColumn('ends_on', 'date', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute();

  // Slots are instants (timestamptz); availability comes from appointments, status only blocks.
  await db.schema
    .createTable('slots')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('practitioner_id', 'uuid', (c) => c.notNull().references('practitioners.id'))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('free')
        .check(sql`status IN ('free', 'busy-unavailable')`),
    )
    .addUniqueConstraint('slots_practitioner_start_uniq', ['practitioner_id', 'starts_at'])
    .addCheckConstraint('slots_interval_check', sql`starts_at < ends_at`)
    .execute();
  await db.schema.createIndex('slots_clinic_start_idx').on('slots').columns(['clinic_id', 'starts_at']).execute();

  // The demo city's lab catalogue; ranges are data because each laboratory sets its own.
  await db.schema
    .createTable('lab_tests')
    .addColumn('loinc', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('specimen_type', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('lab_reference_ranges')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('loinc', 'text', (c) => c.notNull().references('lab_tests.loinc'))
    .addColumn('sex', 'text', (c) => c.check(sql`sex IN ('female', 'male')`))
    .addColumn('ref_low', 'numeric')
    .addColumn('ref_high', 'numeric')
    .addColumn('critical_low', 'numeric')
    .addColumn('critical_high', 'numeric')
    .addColumn('source', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE UNIQUE INDEX lab_reference_ranges_test_sex_uniq ON lab_reference_ranges (loinc, coalesce(sex, 'any'))`.execute(db);
}
