import { type Kysely, sql } from 'kysely';

/** The staged rollout of the system to a clinic, task by task, with who approved each step. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('onboarding_tasks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id'))
    .addColumn('stage', 'text', (c) => c.notNull().check(sql`stage IN ('preparation', 'pilot', 'live')`))
    .addColumn('task', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('requested', 'in-progress', 'completed', 'rejected', 'cancelled')`),
    )
    .addColumn('approved_by', 'text')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('onboarding_tasks_clinic_stage_task_uniq', ['clinic_id', 'stage', 'task'])
    .execute();
}
