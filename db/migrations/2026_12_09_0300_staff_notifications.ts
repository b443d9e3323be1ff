import { type Kysely, sql } from 'kysely';

/**
 * Messages to staff from the referral and onboarding processes (issue 23): an outbox of its own,
 * `staff_notifications` (a referral about to breach or breached, an onboarding task overdue), drained
 * by the same delivery relay (woken by the same NOTIFY) into the same deliveries; and a third roster
 * role, `onboarding-lead`, the person a clinic's overdue onboarding task is told to.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('staff_notifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    // Null: the roster named nobody; the delivery goes to ops (reason no-recipient).
    .addColumn('practitioner_id', 'uuid', (c) => c.references('practitioners.id'))
    .addColumn('referral_id', 'uuid')
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('dispatched_at', 'timestamptz')
    .execute();
  await sql`CREATE INDEX staff_notifications_undispatched_idx ON staff_notifications (created_at) WHERE dispatched_at IS NULL`.execute(db);
  await sql`CREATE TRIGGER staff_notifications_wake_delivery AFTER INSERT ON staff_notifications
    FOR EACH STATEMENT EXECUTE FUNCTION notify_delivery_outbox()`.execute(db);
  await sql`CREATE INDEX deliveries_referral_idx ON deliveries (referral_id) WHERE referral_id IS NOT NULL`.execute(db);

  await sql`ALTER TABLE on_call_roster DROP CONSTRAINT on_call_roster_role_check`.execute(db);
  await sql`ALTER TABLE on_call_roster ADD CONSTRAINT on_call_roster_role_check
    CHECK (role IN ('covering', 'head', 'onboarding-lead'))`.execute(db);
}
