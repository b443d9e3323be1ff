import { type Kysely, sql } from 'kysely';

/**
 * Messages reach people (issue 23): contact points with consent per channel, the on-call roster,
 * deliveries (one row per message and channel, unique by its dedupe key, with a status and why),
 * the in-app inbox, and a dispatch mark on the two outboxes processes already write
 * (notifications, lab_notifications) so the relay turns each row into one delivery process.
 * A trigger wakes the relay (NOTIFY) the moment a row commits; a poll is its backstop.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('contact_points')
    .addColumn('owner_type', 'text', (c) => c.notNull().check(sql`owner_type IN ('patient', 'practitioner')`))
    .addColumn('owner_id', 'uuid', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel IN ('email', 'sms', 'app')`))
    .addColumn('address', 'text')
    .addColumn('consent', 'boolean', (c) => c.notNull())
    .addColumn('preferred', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('contact_points_pk', ['owner_type', 'owner_id', 'channel'])
    .execute();
  await sql`CREATE UNIQUE INDEX contact_points_one_preferred ON contact_points (owner_type, owner_id) WHERE preferred`.execute(db);

  await db.schema
    .createTable('on_call_roster')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('department', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('covering', 'head')`))
    .addColumn('practitioner_id', 'uuid', (c) => c.notNull().references('practitioners.id'))
    .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('removed_at', 'timestamptz')
    .addCheckConstraint('on_call_roster_window', sql`ends_at > starts_at`)
    .execute();
  await db.schema.createIndex('on_call_roster_lookup').on('on_call_roster').columns(['clinic_id', 'role', 'starts_at']).execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('message_key', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('recipient_type', 'text', (c) => c.notNull().check(sql`recipient_type IN ('patient', 'practitioner', 'ops')`))
    .addColumn('recipient_id', 'uuid')
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel IN ('email', 'sms', 'app', 'ops')`))
    .addColumn('address', 'text')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('queued', 'sending', 'sent', 'delivered', 'failed')`))
    .addColumn('reason', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('provider_id', 'text')
    .addColumn('appointment_id', 'uuid')
    .addColumn('lab_order_id', 'uuid')
    .addColumn('referral_id', 'uuid')
    .addColumn('decided_at', 'timestamptz', (c) => c.notNull())
    .addColumn('not_before', 'timestamptz')
    .addColumn('queued_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('failed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('deliveries_message_idx').on('deliveries').columns(['message_key']).execute();
  await db.schema.createIndex('deliveries_provider_idx').on('deliveries').columns(['provider_id']).execute();
  await sql`CREATE INDEX deliveries_failed_idx ON deliveries (failed_at DESC) WHERE status = 'failed'`.execute(db);
  await sql`CREATE INDEX deliveries_appointment_idx ON deliveries (appointment_id) WHERE appointment_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX deliveries_lab_order_idx ON deliveries (lab_order_id) WHERE lab_order_id IS NOT NULL`.execute(db);

  await db.schema
    .createTable('inbox_messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('delivery_key', 'text', (c) => c.notNull().unique())
    .addColumn('recipient_type', 'text', (c) => c.notNull().check(sql`recipient_type IN ('patient', 'practitioner')`))
    .addColumn('recipient_id', 'uuid', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('link', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('read_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('inbox_recipient_idx')
    .on('inbox_messages')
    .columns(['recipient_type', 'recipient_id', 'created_at'])
    .execute();

  for (const table of ['notifications', 'lab_notifications']) {
    await sql`ALTER TABLE ${sql.table(table)} ADD COLUMN dispatched_at timestamptz`.execute(db);
    await sql.raw(`CREATE INDEX ${table}_undispatched_idx ON ${table} (created_at) WHERE dispatched_at IS NULL`).execute(db);
  }
  // Rows written before deliveries existed are history, not messages to send now.
  await sql`UPDATE notifications SET dispatched_at = now()`.execute(db);
  await sql`UPDATE lab_notifications SET dispatched_at = now()`.execute(db);
  await sql`CREATE FUNCTION notify_delivery_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('delivery_outbox', ''); RETURN NULL; END $$`.execute(db);
  for (const table of ['notifications', 'lab_notifications']) {
    await sql
      .raw(`CREATE TRIGGER ${table}_wake_delivery AFTER INSERT ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION notify_delivery_outbox()`)
      .execute(db);
  }
  // The inbox page listens for its recipient's new messages.
  await sql`CREATE FUNCTION notify_inbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('inbox', NEW.recipient_id::text); RETURN NULL; END $$`.execute(db);
  await sql`CREATE TRIGGER inbox_messages_wake AFTER INSERT ON inbox_messages FOR EACH ROW EXECUTE FUNCTION notify_inbox()`.execute(db);
}
