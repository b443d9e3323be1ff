import { type Kysely, sql } from 'kysely';

/**
 * When the appointment's process was known to be running. The API answers a booking from the
 * committed row and starts its process right behind it (BOOKING_PROCESS_START=behind): such a
 * row starts NULL and is stamped once the start returned; rows made inside a process, or before
 * this column, count as started. The API's reconciler starts whatever stays NULL (a crash
 * between the answer and the start), found by the partial index.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE appointments ADD COLUMN process_started_at timestamptz DEFAULT now()`.execute(db);
  await sql`CREATE INDEX appointments_unstarted_idx ON appointments (created_at) WHERE process_started_at IS NULL`.execute(db);
}
