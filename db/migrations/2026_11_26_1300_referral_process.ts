import { type Kysely, sql } from 'kysely';

/**
 * The referral as a durable process: the columns its steps need (ICD-10, urgency, target,
 * validity, escalation, breach, offered slots, acknowledgement), its timeline, the specialist's
 * report, waiting-time policies per clinic or region, and clinic calendars (extra closures).
 */
export async function up(db: Kysely<any>): Promise<void> {
  // The released status set gives way to the process's steps; old values map onto the new ones.
  await sql`ALTER TABLE referrals DROP CONSTRAINT IF EXISTS referrals_status_check`.execute(db);
  await sql`UPDATE referrals SET status = CASE status WHEN 'requested' THEN 'created' WHEN 'completed' THEN 'closed' WHEN 'overdue' THEN 'offered' ELSE status END`.execute(
    db,
  );
  await db.schema
    .alterTable('referrals')
    .addColumn('kind', 'text', (c) =>
      c
        .notNull()
        .defaultTo('specialist')
        .check(sql`kind IN ('specialist', 'diagnostic', 'gp')`),
    )
    .addColumn('urgency', 'text', (c) =>
      c
        .notNull()
        .defaultTo('routine')
        .check(sql`urgency IN ('routine', 'cancer-suspected', 'urgent')`),
    )
    .addColumn('icd10', 'text')
    .addColumn('reason', 'text')
    .addColumn('target_practitioner_id', 'uuid', (c) => c.references('practitioners.id'))
    .addColumn('target_test', 'text')
    .addColumn('valid_until', 'timestamptz', (c) => c.notNull().defaultTo(sql`now() + interval '30 days'`))
    .addColumn('breached', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('escalation_level', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('offered_slots', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('no_shows', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('booked_at', 'timestamptz')
    .addColumn('acknowledged_at', 'timestamptz')
    .addColumn('acknowledged_by', 'text')
    .addColumn('cancel_reason', 'text')
    .addColumn('closed_at', 'timestamptz')
    .execute();
  await sql`UPDATE referrals SET breached = true WHERE deadline_at < now() AND booked_at IS NULL AND status IN ('created', 'offered')`.execute(
    db,
  );
  await sql`ALTER TABLE referrals ADD CONSTRAINT referrals_step_check
    CHECK (status IN ('created', 'offered', 'booked', 'attended', 'reported', 'closed', 'cancelled', 'expired'))`.execute(db);
  // The registrar's queue: one clinic's referrals awaiting booking, escalated first, nearest deadline next.
  await db.schema
    .createIndex('referrals_queue_idx')
    .on('referrals')
    .columns(['clinic_id', 'status', 'escalation_level', 'deadline_at'])
    .execute();

  await db.schema
    .createTable('referral_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('referral_id', 'uuid', (c) => c.notNull().references('referrals.id'))
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // A retried activity records its step once.
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .execute();
  await db.schema.createIndex('referral_events_referral_idx').on('referral_events').columns(['referral_id', 'at']).execute();

  await db.schema
    .createTable('referral_reports')
    .addColumn('referral_id', 'uuid', (c) => c.primaryKey().references('referrals.id'))
    .addColumn('practitioner_id', 'uuid', (c) => c.notNull().references('practitioners.id'))
    .addColumn('patient_id', 'uuid', (c) => c.notNull().references('patients.id'))
    .addColumn('conclusion', 'text', (c) => c.notNull())
    .addColumn('icd10', sql`text[]`, (c) => c.notNull())
    .addColumn('recommendations', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Waiting times by urgency: a clinic's row wins over its region's, a region's over the defaults in domain/referral.ts.
  await db.schema
    .createTable('referral_policies')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.references('clinics.id'))
    .addColumn('region', 'text')
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('specialist', 'diagnostic', 'gp')`))
    .addColumn('urgency', 'text', (c) => c.notNull().check(sql`urgency IN ('routine', 'cancer-suspected', 'urgent')`))
    .addColumn('wait_working_days', 'integer')
    .addColumn('wait_hours', 'integer')
    .addColumn('wait_seconds', 'integer')
    .addColumn('escalation_share', 'numeric', (c) =>
      c
        .notNull()
        .defaultTo(0.5)
        .check(sql`escalation_share > 0 AND escalation_share < 1`),
    )
    .addColumn('acknowledge_seconds', 'integer', (c) => c.notNull().check(sql`acknowledge_seconds > 0`))
    .addColumn('no_show_limit', 'integer', (c) => c.notNull().check(sql`no_show_limit > 0`))
    .addColumn('validity_days', 'integer', (c) => c.notNull().check(sql`validity_days > 0`))
    .addCheckConstraint('referral_policies_one_wait', sql`num_nonnulls(wait_working_days, wait_hours, wait_seconds) = 1`)
    .execute();
  await sql`CREATE UNIQUE INDEX referral_policies_scope_uniq ON referral_policies (coalesce(clinic_id::text, ''), coalesce(region, ''), kind, urgency)`.execute(
    db,
  );

  // A clinic's working calendar: country/region for public holidays (a clinic without a row is in Russia), extra closures.
  await db.schema
    .createTable('clinic_calendars')
    .addColumn('clinic_id', 'uuid', (c) => c.primaryKey().references('clinics.id'))
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('region', 'text')
    .execute();
  await db.schema
    .createTable('clinic_closures')
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('closed_on', 'date', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('clinic_closures_pk', ['clinic_id', 'closed_on'])
    .execute();
}
