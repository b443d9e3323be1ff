import { type Kysely, sql } from 'kysely';

/**
 * The lab order as a process: catalogue panels, possible ranges and convertible units; the order's
 * priority, note, deadline, overdue flag, steps' times and full status set; its events, result
 * versions (amendments never overwrite), critical notifications, acknowledgements with read-back,
 * specimen rejections, CDS cards per round; escalation contacts per clinic; patient vitals.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('lab_tests').addColumn('physio_low', 'numeric').addColumn('physio_high', 'numeric').execute();
  await db.schema
    .createTable('lab_test_units')
    .addColumn('loinc', 'text', (c) => c.notNull().references('lab_tests.loinc'))
    .addColumn('unit', 'text', (c) => c.notNull())
    // catalogue value = reported value × factor
    .addColumn('factor', 'double precision', (c) => c.notNull().check(sql`factor > 0`))
    .addPrimaryKeyConstraint('lab_test_units_pk', ['loinc', 'unit'])
    .execute();
  await db.schema
    .createTable('lab_panels')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('lab_panel_tests')
    .addColumn('panel_code', 'text', (c) => c.notNull().references('lab_panels.code'))
    .addColumn('loinc', 'text', (c) => c.notNull().references('lab_tests.loinc'))
    .addPrimaryKeyConstraint('lab_panel_tests_pk', ['panel_code', 'loinc'])
    .execute();

  await db.schema.alterTable('lab_reference_ranges').addColumn('age_min_years', 'integer').addColumn('age_max_years', 'integer').execute();
  await sql`DROP INDEX lab_reference_ranges_test_sex_uniq`.execute(db);
  await sql`CREATE UNIQUE INDEX lab_reference_ranges_test_sex_age_uniq ON lab_reference_ranges (loinc, coalesce(sex, 'any'), coalesce(age_min_years, -1), coalesce(age_max_years, -1))`.execute(
    db,
  );

  await sql`ALTER TABLE lab_orders DROP CONSTRAINT IF EXISTS lab_orders_status_check`.execute(db);
  await sql`ALTER TABLE lab_orders ADD CONSTRAINT lab_orders_status_check CHECK (status IN ('ordered', 'collected', 'received', 'resulted', 'final', 'acknowledged', 'closed', 'cancelled', 'reviewed'))`.execute(
    db,
  );
  await db.schema
    .alterTable('lab_orders')
    .addColumn('clinical_note', 'text')
    .addColumn('created_by', 'text')
    .addColumn('deadline_at', 'timestamptz')
    .addColumn('overdue', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('barcode', 'text')
    .addColumn('collected_by', 'text')
    .addColumn('collected_at', 'timestamptz')
    .addColumn('received_at', 'timestamptz')
    .addColumn('resulted_at', 'timestamptz')
    .addColumn('final_at', 'timestamptz')
    .addColumn('acknowledged_at', 'timestamptz')
    .addColumn('acknowledged_by', 'text')
    .addColumn('ack_seconds', 'double precision')
    .addColumn('cancelled_at', 'timestamptz')
    .addColumn('cancel_reason', 'text')
    .addColumn('rejection_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('critical_pending', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('round', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('lab_orders_clinic_status_idx').on('lab_orders').columns(['clinic_id', 'status']).execute();
  await db.schema.createIndex('lab_orders_practitioner_idx').on('lab_orders').columns(['ordering_practitioner_id', 'status']).execute();

  await db.schema
    .createTable('lab_order_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('lab_order_id', 'uuid', (c) => c.notNull().references('lab_orders.id'))
    // clock_timestamp: events written in one transaction keep their order.
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .execute();
  await db.schema.createIndex('lab_order_events_order_idx').on('lab_order_events').columns(['lab_order_id', 'at']).execute();

  await db.schema
    .createTable('lab_result_versions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('lab_order_id', 'uuid', (c) => c.notNull().references('lab_orders.id'))
    .addColumn('loinc', 'text', (c) => c.notNull().references('lab_tests.loinc'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('reported_value', 'double precision', (c) => c.notNull())
    .addColumn('reported_unit', 'text', (c) => c.notNull())
    .addColumn('interpretation', 'text', (c) => c.notNull().check(sql`interpretation IN ('N', 'L', 'H', 'LL', 'HH')`))
    .addColumn('ref_low', 'double precision')
    .addColumn('ref_high', 'double precision')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('preliminary', 'final', 'amended', 'corrected')`))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('posted_by', 'text', (c) => c.notNull())
    .addColumn('resulted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('lab_result_versions_uniq', ['lab_order_id', 'loinc', 'version'])
    .execute();

  await db.schema
    .createTable('lab_critical_notifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('lab_order_id', 'uuid', (c) => c.notNull().references('lab_orders.id'))
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('step', 'text', (c) => c.notNull().check(sql`step IN ('ordering', 'covering', 'head')`))
    .addColumn('recipient_practitioner_id', 'uuid')
    .addColumn('notified_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('lab_critical_notifications_uniq', ['lab_order_id', 'round', 'step'])
    .execute();

  await db.schema
    .createTable('lab_acknowledgements')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('lab_order_id', 'uuid', (c) => c.notNull().references('lab_orders.id'))
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('practitioner_id', 'uuid', (c) => c.notNull())
    .addColumn('read_back', 'jsonb', (c) => c.notNull())
    .addColumn('critical', 'boolean', (c) => c.notNull())
    .addColumn('seconds_from_final', 'double precision', (c) => c.notNull())
    .addColumn('acknowledged_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('lab_acknowledgements_uniq', ['lab_order_id', 'round'])
    .execute();

  await db.schema
    .createTable('lab_specimen_rejections')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('lab_order_id', 'uuid', (c) => c.notNull().references('lab_orders.id'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull().check(sql`reason IN ('haemolysed', 'clotted', 'wrong-tube', 'unlabelled')`))
    .addColumn('barcode', 'text')
    .addColumn('rejected_by', 'text', (c) => c.notNull())
    .addColumn('rejected_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('lab_specimen_rejections_uniq', ['lab_order_id', 'attempt'])
    .execute();

  await db.schema
    .createTable('lab_cds_cards')
    .addColumn('lab_order_id', 'uuid', (c) => c.notNull().references('lab_orders.id'))
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('assessment_id', 'uuid', (c) => c.references('cds_assessments.id'))
    .addColumn('cards', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('lab_cds_cards_pk', ['lab_order_id', 'round'])
    .execute();

  // The outbox of what doctors are told (critical results, escalations); a sender delivers them.
  await db.schema
    .createTable('lab_notifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('lab_order_id', 'uuid', (c) => c.notNull().references('lab_orders.id'))
    .addColumn('practitioner_id', 'uuid')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('lab_escalation_contacts')
    .addColumn('clinic_id', 'uuid', (c) => c.primaryKey().references('clinics.id'))
    .addColumn('covering_practitioner_id', 'uuid', (c) => c.references('practitioners.id'))
    .addColumn('head_practitioner_id', 'uuid', (c) => c.references('practitioners.id'))
    .execute();

  // A clinic's own lab order policy (domain/lab-order.ts LabOrderPolicy, seconds); absent keys take the defaults.
  await db.schema
    .createTable('lab_order_policies')
    .addColumn('clinic_id', 'uuid', (c) => c.primaryKey().references('clinics.id'))
    .addColumn('policy', 'jsonb', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('patient_vitals')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('patient_id', 'uuid', (c) => c.notNull().references('patients.id'))
    .addColumn('loinc', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('effective_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('patient_vitals_patient_idx').on('patient_vitals').columns(['patient_id', 'loinc', 'effective_at']).execute();
}
