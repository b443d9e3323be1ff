/** CDS queries: stored assessments (idempotent by request key) and the lab catalogue's ranges. */
import type { Db } from './index';
import type { CdsAssessment, NewCdsAssessment } from './schema';
import type { ReferenceRange } from '../domain/cds/rules';

/**
 * Stores an assessment once per request key: a retried activity or a repeated hook call writes
 * nothing new and gets the row stored first.
 */
export async function insertAssessmentOnce(db: Db, row: NewCdsAssessment): Promise<CdsAssessment> {
  return db.transaction().execute(async (tx) => {
    await tx.insertInto('cds_assessments').values(row).onConflict((oc) => oc.column('request_key').doNothing()).execute();
    return tx.selectFrom('cds_assessments').selectAll().where('request_key', '=', row.request_key).executeTakeFirstOrThrow();
  });
}

export function findAssessment(db: Db, id: string): Promise<CdsAssessment | undefined> {
  return db.selectFrom('cds_assessments').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Every reference range with its test's name and catalogue unit. */
export async function listReferenceRanges(db: Db): Promise<ReferenceRange[]> {
  return db
    .selectFrom('lab_reference_ranges as r')
    .innerJoin('lab_tests as t', 't.loinc', 'r.loinc')
    .select(['r.loinc', 't.name', 't.unit', 'r.sex', 'r.ref_low', 'r.ref_high', 'r.critical_low', 'r.critical_high', 'r.source'])
    .orderBy('r.loinc')
    .execute();
}

/** LOINC → test name, for card text. */
export async function labTestNames(db: Db): Promise<Record<string, string>> {
  const rows = await db.selectFrom('lab_tests').select(['loinc', 'name']).execute();
  return Object.fromEntries(rows.map((r) => [r.loinc, r.name]));
}
