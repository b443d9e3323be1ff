import type { Kysely } from 'kysely';

/** One leave record per practitioner and date range, so a repeated request records it once. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('schedule_exceptions_once_uniq')
    .on('schedule_exceptions')
    .columns(['practitioner_id', 'starts_on', 'ends_on'])
    .unique()
    .execute();
}
