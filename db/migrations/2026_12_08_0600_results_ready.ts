import { type Kysely, sql } from 'kysely';

/**
 * "Your results are ready" to the patient: the patients' outbox takes a lab order's final results
 * as a kind of its own, with the order it is about (the message carries no value, only a link).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE notifications
    ADD COLUMN lab_order_id uuid REFERENCES lab_orders(id),
    DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('reminder', 'waitlist-offer', 'cancelled', 'rescheduled', 'results-ready'))`.execute(
    db,
  );
}
