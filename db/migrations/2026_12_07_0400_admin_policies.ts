import { type Kysely, sql } from 'kysely';

/**
 * Policies set through the admin API, as versions: each row takes effect from its
 * `effective_from` instant and stays listed after a newer one replaces it. Readers pick the
 * latest row with effective_from <= the instant they ask about (a process's start).
 * - referral_policies gains effective_from (rows from before count since 1970, i.e. always).
 * - lab_escalation_policies: critical-value escalation steps, per clinic or city-wide.
 * - lab_critical_ranges: a test's critical limits, over those of its reference-range rows.
 * - clinic_calendar_versions: a clinic's country/region for public holidays, over clinic_calendars.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE referral_policies
    ADD COLUMN effective_from timestamptz NOT NULL DEFAULT '1970-01-01T00:00:00Z',
    ADD COLUMN created_by text,
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()`.execute(db);
  await sql`DROP INDEX referral_policies_scope_uniq`.execute(db);
  await sql`CREATE UNIQUE INDEX referral_policies_scope_version_uniq
    ON referral_policies (coalesce(clinic_id::text, ''), coalesce(region, ''), kind, urgency, effective_from)`.execute(db);

  await db.schema
    .createTable('lab_escalation_policies')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.references('clinics.id'))
    .addColumn('escalate_covering_seconds', 'integer', (c) => c.notNull().check(sql`escalate_covering_seconds > 0`))
    .addColumn('escalate_head_seconds', 'integer', (c) => c.notNull())
    .addColumn('effective_from', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('lab_escalation_policies_order', sql`escalate_head_seconds > escalate_covering_seconds`)
    .execute();
  await sql`CREATE UNIQUE INDEX lab_escalation_policies_version_uniq
    ON lab_escalation_policies (coalesce(clinic_id::text, ''), effective_from)`.execute(db);

  await db.schema
    .createTable('lab_critical_ranges')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('loinc', 'text', (c) => c.notNull().references('lab_tests.loinc'))
    .addColumn('critical_low', 'double precision')
    .addColumn('critical_high', 'double precision')
    .addColumn('effective_from', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('lab_critical_ranges_some_limit', sql`num_nonnulls(critical_low, critical_high) >= 1`)
    .addCheckConstraint('lab_critical_ranges_order', sql`critical_low IS NULL OR critical_high IS NULL OR critical_low < critical_high`)
    .addUniqueConstraint('lab_critical_ranges_version_uniq', ['loinc', 'effective_from'])
    .execute();

  await db.schema
    .createTable('clinic_calendar_versions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('country', 'text', (c) => c.notNull().check(sql`country ~ '^[A-Z]{2}$'`))
    .addColumn('region', 'text')
    .addColumn('effective_from', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('clinic_calendar_versions_version_uniq', ['clinic_id', 'effective_from'])
    .execute();
}
