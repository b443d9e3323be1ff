/** Small record writes the API makes for a caller: vital signs. */
import type { Insertable } from 'kysely';
import type { Db } from '../db';
import type { PatientVitalsTable } from '../db/schema';

/** Records vital signs once per dedupe key (a retried request writes nothing new). */
export async function recordVitals(db: Db, rows: Insertable<PatientVitalsTable>[]): Promise<void> {
  await db
    .insertInto('patient_vitals')
    .values(rows)
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
}
