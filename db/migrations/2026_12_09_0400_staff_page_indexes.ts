import { type Kysely, sql } from 'kysely';

/**
 * Indexes for the staff pages' lists, which otherwise read whole tables at city scale: the desk's day of
 * a clinic (appointments by clinic and start), and the unacknowledged critical results that the lab's
 * critical page, the ops summary and its attention count read (a few rows among all final orders).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX appointments_clinic_start_idx ON appointments (clinic_id, starts_at)`.execute(db);
  await sql`CREATE INDEX lab_orders_critical_pending_idx ON lab_orders (final_at, id) WHERE critical_pending`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX lab_orders_critical_pending_idx`.execute(db);
  await sql`DROP INDEX appointments_clinic_start_idx`.execute(db);
}
