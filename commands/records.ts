/** Small record writes the API makes for a caller: vital signs, a rollout program's row. */
import type { Insertable } from 'kysely';
import type { Db } from '../db';
import type { PatientVitalsTable, RolloutProgramsTable } from '../db/schema';

/** Records vital signs once per dedupe key (a retried request writes nothing new). */
export async function recordVitals(db: Db, rows: Insertable<PatientVitalsTable>[]): Promise<void> {
  await db
    .insertInto('patient_vitals')
    .values(rows)
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
}

/** The rollout program's row, once per id, before its process starts. */
export async function createRolloutProgram(db: Db, row: Insertable<RolloutProgramsTable>): Promise<void> {
  await db
    .insertInto('rollout_programs')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
