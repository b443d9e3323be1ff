/** CDS queries: stored assessments (idempotent by request key) and the lab catalogue's ranges. */
import type { Db } from './index';
import type { CdsAssessment, NewCdsAssessment } from './schema';
import type { ReferenceRange } from '../domain/cds/rules';

/**
 * Stores an assessment once per request key: a retried activity or a repeated hook call writes
 * nothing new and gets the row stored first. One statement when the key is new (the hot path of a
 * CDS Hooks call); a repeat reads the stored row with a second one, whose fresh snapshot also sees
 * a row that a concurrent first call committed while the insert waited on it.
 */
export async function insertAssessmentOnce(db: Db, row: NewCdsAssessment): Promise<CdsAssessment> {
  const inserted = await db
    .insertInto('cds_assessments')
    .values(row)
    .onConflict((oc) => oc.column('request_key').doNothing())
    .returningAll()
    .executeTakeFirst();
  return inserted ?? db.selectFrom('cds_assessments').selectAll().where('request_key', '=', row.request_key).executeTakeFirstOrThrow();
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
