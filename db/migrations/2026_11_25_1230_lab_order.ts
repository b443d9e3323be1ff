import { type Kysely, sql } from 'kysely';

/** Lab orders, their specimens and results. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('lab_orders')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('patient_id', 'uuid', (c) => c.notNull().references('patients.id'))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('ordering_practitioner_id', 'uuid', (c) => c.notNull().references('practitioners.id'))
    .addColumn('tests', sql`text[]`, (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull().check(sql`priority IN ('routine', 'urgent', 'asap', 'stat')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('ordered', 'collected', 'resulted', 'reviewed', 'cancelled')`))
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('lab_orders_patient_idx').on('lab_orders').column('patient_id').execute();

  await db.schema
    .createTable('specimens')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('lab_order_id', 'uuid', (c) => c.notNull().references('lab_orders.id'))
    .addColumn('specimen_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('available', 'unavailable', 'unsatisfactory', 'entered-in-error')`),
    )
    .addColumn('collected_at', 'timestamptz', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz')
    .addUniqueConstraint('specimens_order_type_uniq', ['lab_order_id', 'specimen_type'])
    .execute();

  await db.schema
    .createTable('lab_results')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('lab_order_id', 'uuid', (c) => c.notNull().references('lab_orders.id'))
    .addColumn('loinc', 'text', (c) => c.notNull().references('lab_tests.loinc'))
    .addColumn('value', 'numeric', (c) => c.notNull())
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('interpretation', 'text', (c) => c.check(sql`interpretation IN ('N', 'L', 'H', 'LL', 'HH', 'A', 'AA')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('preliminary', 'final', 'amended', 'corrected')`))
    .addColumn('resulted_at', 'timestamptz', (c) => c.notNull())
    .addColumn('acknowledged_at', 'timestamptz')
    .addColumn('acknowledged_by', 'text')
    .addUniqueConstraint('lab_results_order_test_uniq', ['lab_order_id', 'loinc'])
    .execute();
}
