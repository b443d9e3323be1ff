import { type Kysely, sql } from 'kysely';

/**
 * Booking guards from the review.
 *
 * 1. A practitioner is never in two places: their slots may not overlap in time
 *    (slots_practitioner_no_overlap). Existing overlapping slots, if any, are resolved first:
 *    a slot that no appointment has ever used is deleted when it overlaps one of the same
 *    practitioner's slots that has been used, or one that starts earlier (ties: the lower id);
 *    the count is written to audit_log ('slots-overlap-removed'). If overlapping slots remain
 *    that both carry appointments, nothing is changed and the migration stops with their number:
 *    those visits are a real double booking, which a registrar must move or cancel before
 *    migrating again. (The demo city has no overlapping schedules.)
 * 2. The audit log is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, whoever asks.
 * 3. The lapsed-holds sweep finds its own audit rows by index (details->>'sweepId').
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS btree_gist`.execute(db);

  const removed = await sql`
    DELETE FROM slots s
    WHERE NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id)
      AND EXISTS (
        SELECT 1 FROM slots o
        WHERE o.practitioner_id = s.practitioner_id AND o.id <> s.id
          AND o.starts_at < s.ends_at AND s.starts_at < o.ends_at
          AND (EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = o.id)
               OR o.starts_at < s.starts_at OR (o.starts_at = s.starts_at AND o.id < s.id)))`.execute(db);
  const remaining = await sql<{ n: string }>`
    SELECT count(*) AS n FROM slots a JOIN slots b
      ON a.practitioner_id = b.practitioner_id AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at`.execute(db);
  const clashes = Number(remaining.rows[0]!.n);
  if (clashes > 0) {
    throw new Error(
      `${clashes} pairs of one practitioner's overlapping slots both carry appointments: move or cancel those visits, then migrate again`,
    );
  }
  const n = Number(removed.numAffectedRows ?? 0);
  if (n > 0) {
    await sql`INSERT INTO audit_log (actor, action, entity, entity_id, dedupe_key, details)
      VALUES ('migration', 'slots-overlap-removed', 'system', 'slots', 'migration:2026_11_26_1200_booking_guards', ${JSON.stringify({ removed: n })}::jsonb)
      ON CONFLICT (dedupe_key) DO NOTHING`.execute(db);
  }
  await sql`ALTER TABLE slots ADD CONSTRAINT slots_practitioner_no_overlap
    EXCLUDE USING gist (practitioner_id WITH =, tstzrange(starts_at, ends_at) WITH &&)`.execute(db);

  await sql`CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(db);
  await sql`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`.execute(db);

  await sql`CREATE INDEX audit_log_sweep_idx ON audit_log ((details->>'sweepId')) WHERE action = 'expired-by-sweep'`.execute(db);
}
