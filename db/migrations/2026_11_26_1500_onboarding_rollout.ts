import { type Kysely, sql } from 'kysely';

/**
 * Onboarding and the city rollout: a training stage between preparation and pilot (old values stay
 * valid), task owners, deadlines and blocker flags, the clinic's equipment and staff, blockers,
 * pilot incidents, the onboarding timeline and rollout programs.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE clinics DROP CONSTRAINT IF EXISTS clinics_rollout_stage_check`.execute(db);
  await sql`ALTER TABLE clinics ADD CONSTRAINT clinics_rollout_stage_check CHECK (rollout_stage IN ('preparation', 'training', 'pilot', 'live'))`.execute(
    db,
  );
  await sql`ALTER TABLE onboarding_tasks DROP CONSTRAINT IF EXISTS onboarding_tasks_stage_check`.execute(db);
  await sql`ALTER TABLE onboarding_tasks ADD CONSTRAINT onboarding_tasks_stage_check CHECK (stage IN ('preparation', 'training', 'pilot', 'live'))`.execute(
    db,
  );

  await db.schema
    .alterTable('onboarding_tasks')
    .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('owner_role', 'text', (c) => c.notNull().defaultTo('ops'))
    .addColumn('deadline_at', 'timestamptz')
    .addColumn('blocked', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('escalations', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('equipment_items')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('item_code', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ordered_at', 'timestamptz')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('installed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('equipment_items_clinic_code_uniq', ['clinic_id', 'item_code'])
    .addCheckConstraint(
      'equipment_items_order_check',
      sql`(delivered_at IS NULL OR ordered_at IS NOT NULL) AND (installed_at IS NULL OR delivered_at IS NOT NULL)`,
    )
    .execute();

  await db.schema
    .createTable('clinic_staff')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('staff_code', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('doctor', 'nurse', 'registrar', 'lab', 'manager')`))
    .addColumn('trained_at', 'timestamptz')
    .addColumn('certified_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('clinic_staff_clinic_code_uniq', ['clinic_id', 'staff_code'])
    .execute();

  await db.schema
    .createTable('onboarding_blockers')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('reported_by', 'text', (c) => c.notNull())
    .addColumn('reported_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('pilot_incidents')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('blocking', 'boolean', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('open', 'resolved')`))
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('reported_by', 'text', (c) => c.notNull())
    .addColumn('reported_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('pilot_incidents_clinic_idx').on('pilot_incidents').columns(['clinic_id', 'status']).execute();

  await db.schema
    .createTable('onboarding_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('onboarding_events_clinic_idx').on('onboarding_events').columns(['clinic_id', 'id']).execute();

  await db.schema
    .createTable('rollout_programs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('pilot_clinic_ids', sql`text[]`, (c) => c.notNull())
    .addColumn('clinic_ids', sql`text[]`, (c) => c.notNull())
    .addColumn('policy', 'jsonb', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
