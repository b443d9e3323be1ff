import { type Kysely, sql } from 'kysely';

/** Referrals to a specialist: booked before a deadline, closed by the specialist's report. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('referrals')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('patient_id', 'uuid', (c) => c.notNull().references('patients.id'))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('referring_practitioner_id', 'uuid', (c) => c.references('practitioners.id'))
    .addColumn('specialty', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull().check(sql`priority IN ('routine', 'urgent', 'asap', 'stat')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('requested', 'booked', 'completed', 'overdue', 'cancelled')`))
    .addColumn('deadline_at', 'timestamptz', (c) => c.notNull())
    .addColumn('appointment_id', 'uuid', (c) => c.references('appointments.id'))
    .addColumn('report_received_at', 'timestamptz')
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('referrals_patient_idx').on('referrals').column('patient_id').execute();
  await db.schema.createIndex('referrals_status_deadline_idx').on('referrals').columns(['status', 'deadline_at']).execute();
}
