import { type Kysely, sql } from 'kysely';

/**
 * Diagnosis suggestions (model diagnosis-suggestions) and the doctor's final diagnosis of a visit.
 * Every answered suggestion is a row (its top three codes and top probability), so monitoring can
 * say, once the visit is completed with a code, whether the model had it first or among three.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('diagnosis_suggestions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // CDS Hooks calls: the hook instance and a keyed digest, so the EHR's retry finds the same row; null for the engine's route.
    .addColumn('request_key', 'text', (c) => c.unique())
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source IN ('api', 'cds-hooks')`))
    .addColumn('requested_by', 'text', (c) => c.notNull())
    // The caller's practitioner and clinic as the token names them (an external EHR's may be unknown here), or the visit's.
    .addColumn('practitioner_id', 'uuid')
    .addColumn('clinic_id', 'uuid')
    .addColumn('appointment_id', 'uuid', (c) => c.references('appointments.id'))
    .addColumn('patient_ref', 'text')
    // The doctor's words as sent: clinical content, kept here and never in logs or metrics labels.
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('model_version', 'text', (c) => c.notNull())
    .addColumn('codes', sql`text[]`, (c) => c.notNull())
    .addColumn('probabilities', sql`double precision[]`, (c) => c.notNull())
    .addColumn('top_probability', 'double precision', (c) => c.notNull())
    .addColumn('low_confidence', 'boolean', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('diagnosis_suggestions_appointment_idx')
    .on('diagnosis_suggestions')
    .columns(['appointment_id', 'created_at'])
    .execute();
  await db.schema.createIndex('diagnosis_suggestions_created_idx').on('diagnosis_suggestions').column('created_at').execute();

  await db.schema
    .createTable('visit_diagnoses')
    .addColumn('appointment_id', 'uuid', (c) => c.primaryKey().references('appointments.id'))
    .addColumn('patient_id', 'uuid', (c) => c.notNull().references('patients.id'))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('practitioner_id', 'uuid', (c) => c.notNull().references('practitioners.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    // The visit's latest suggestion before completion, and whether the code's category was in it.
    .addColumn('suggestion_id', 'uuid', (c) => c.references('diagnosis_suggestions.id'))
    .addColumn('in_top1', 'boolean')
    .addColumn('in_top3', 'boolean')
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('visit_diagnoses_clinic_idx').on('visit_diagnoses').columns(['clinic_id', 'recorded_at']).execute();
  await db.schema.createIndex('visit_diagnoses_patient_idx').on('visit_diagnoses').column('patient_id').execute();
}
