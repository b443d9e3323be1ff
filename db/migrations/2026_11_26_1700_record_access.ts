import { type Kysely, sql } from 'kysely';

/**
 * Access audit: every read and write of patient data is an audit_log row (action 'read', 'write'
 * or 'break-the-glass'; details hold patientId, role, clinic claims, route, requestId, reason).
 * The ops queries look rows up by patient, by user and (break-the-glass) by time.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX audit_log_patient_idx ON audit_log ((details->>'patientId'), id DESC) WHERE details ? 'patientId'`.execute(db);
  await sql`CREATE INDEX audit_log_actor_idx ON audit_log (actor, id DESC)`.execute(db);
  await sql`CREATE INDEX audit_log_break_glass_idx ON audit_log (id DESC) WHERE action = 'break-the-glass'`.execute(db);
  // The record's merge reads each kind by patient, newest first.
  await sql`CREATE INDEX IF NOT EXISTS appointments_patient_starts_idx ON appointments (patient_id, starts_at DESC)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS referrals_patient_created_idx ON referrals (patient_id, created_at DESC)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS lab_orders_patient_created_idx ON lab_orders (patient_id, created_at DESC)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS cds_assessments_patient_ref_idx ON cds_assessments (patient_ref, created_at DESC)`.execute(db);
}
