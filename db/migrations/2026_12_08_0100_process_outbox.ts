import { type Kysely, sql } from 'kysely';

/**
 * The transactional outbox (docs/outbox.md): a command writes a process's rows and, in the same
 * transaction, a row here saying what the process must be told (start, confirmed, checked in…).
 * The clinical worker's relay drains it for its own task queue: woken by NOTIFY at commit, with a
 * poll as backstop, rows claimed `FOR UPDATE SKIP LOCKED` so several relays drain side by side.
 * A drained row keeps `done_at` for a while (what was told, and when), then the relay prunes it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE process_outbox (
      id bigserial PRIMARY KEY,
      task_queue text NOT NULL,
      workflow_id text NOT NULL,
      process text NOT NULL,
      kind text NOT NULL,
      subject_id uuid NOT NULL,
      payload jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      available_at timestamptz NOT NULL DEFAULT now(),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      done_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX process_outbox_pending_idx ON process_outbox (task_queue, id) WHERE done_at IS NULL`.execute(db);
  await sql`CREATE INDEX process_outbox_done_idx ON process_outbox (done_at) WHERE done_at IS NOT NULL`.execute(db);
  await sql`
    CREATE FUNCTION process_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('process_outbox', '');
      RETURN NULL;
    END $$`.execute(db);
  // Once per statement, delivered at commit (and folded by Postgres within one transaction).
  await sql`CREATE TRIGGER process_outbox_notify AFTER INSERT ON process_outbox FOR EACH STATEMENT EXECUTE FUNCTION process_outbox_notify()`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE process_outbox`.execute(db);
  await sql`DROP FUNCTION process_outbox_notify()`.execute(db);
}
