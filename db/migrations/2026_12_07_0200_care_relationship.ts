import { type Kysely, sql } from 'kysely';

/**
 * A care relationship that means care (domain/care-relationship.ts):
 * - patient_attachments: the patient's registered polyclinic, with dates, kept as data (backfilled
 *   from patients.home_clinic_id); one current attachment per patient.
 * - audit_log.outcome: 'allowed' or 'refused'; a refused request is recorded as refused, never as
 *   a change, and no audit row grants access.
 * - indexes for the relationship query's lookups by patient.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE patient_attachments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    patient_id uuid NOT NULL REFERENCES patients(id),
    clinic_id uuid NOT NULL REFERENCES clinics(id),
    attached_from timestamptz NOT NULL DEFAULT now(),
    attached_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (attached_until IS NULL OR attached_until > attached_from)
  )`.execute(db);
  await sql`CREATE UNIQUE INDEX patient_attachments_current_idx ON patient_attachments (patient_id) WHERE attached_until IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX patient_attachments_patient_idx ON patient_attachments (patient_id, clinic_id)`.execute(db);
  await sql`INSERT INTO patient_attachments (patient_id, clinic_id, attached_from)
            SELECT id, home_clinic_id, created_at FROM patients WHERE home_clinic_id IS NOT NULL`.execute(db);
  await sql`ALTER TABLE audit_log ADD COLUMN outcome text NOT NULL DEFAULT 'allowed' CHECK (outcome IN ('allowed', 'refused'))`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS lab_orders_patient_practitioner_idx ON lab_orders (patient_id, ordering_practitioner_id)`.execute(
    db,
  );
}
