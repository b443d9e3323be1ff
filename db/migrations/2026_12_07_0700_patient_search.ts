import { type Kysely, sql } from 'kysely';

/**
 * Finding a patient at the desk: the insurance policy number (OMS, 16 digits on the demo city's
 * cards; unique where known), and prefix indexes for search by name (the whole name, which starts
 * with the family name in the Russian order, and its last word, the family name in the demo
 * city's "First Last" order) and by birth date. Plain btree indexes (text_pattern_ops for LIKE
 * 'x%'): pg_trgm is not needed, so an external Postgres without contrib works too.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE patients ADD COLUMN policy_number text`.execute(db);
  await sql`CREATE UNIQUE INDEX patients_policy_number_idx ON patients (policy_number) WHERE policy_number IS NOT NULL`.execute(db);
  await sql`CREATE INDEX patients_name_prefix_idx ON patients (lower(full_name) text_pattern_ops, id)`.execute(db);
  await sql`CREATE INDEX patients_family_prefix_idx ON patients ((regexp_replace(lower(full_name), '^.*\\s', '')) text_pattern_ops, id)`.execute(
    db,
  );
  await sql`CREATE INDEX patients_birth_date_idx ON patients (birth_date, id)`.execute(db);
}
