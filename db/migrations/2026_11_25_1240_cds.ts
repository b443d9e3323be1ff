import { type Kysely, sql } from 'kysely';

/** Every CDS assessment, traceable to the model id and version, its inputs and output. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('cds_assessments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // Idempotency: a retried activity or hook call with the same key writes nothing new.
    .addColumn('request_key', 'text', (c) => c.notNull().unique())
    .addColumn('service_id', 'text', (c) => c.notNull())
    .addColumn('patient_ref', 'text', (c) => c.notNull())
    .addColumn('lab_order_id', 'uuid', (c) => c.references('lab_orders.id'))
    .addColumn('model_id', 'text')
    .addColumn('model_version', 'text')
    .addColumn('inputs', 'jsonb', (c) => c.notNull())
    .addColumn('output', 'jsonb', (c) => c.notNull())
    .addColumn('score', 'double precision')
    .addColumn('band', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('cds_assessments_patient_idx').on('cds_assessments').columns(['patient_ref', 'created_at']).execute();
}
