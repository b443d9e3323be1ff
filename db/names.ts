/**
 * Names beside ids: the clinics (with their zone), practitioners, patients and lab tests that a
 * list names, read in one query per kind. Lists call this once per page, never per row.
 */
import type { Db } from './index';

export interface NameWants {
  clinics?: Iterable<string | null | undefined>;
  practitioners?: Iterable<string | null | undefined>;
  patients?: Iterable<string | null | undefined>;
  tests?: Iterable<string | null | undefined>;
}

export interface Names {
  clinic(id: string | null | undefined): { name: string; timeZone: string } | undefined;
  practitioner(id: string | null | undefined): string | null;
  patient(id: string | null | undefined): string | null;
  test(loinc: string): string | null;
}

const distinct = (ids: Iterable<string | null | undefined> | undefined): string[] => [
  ...new Set([...(ids ?? [])].filter((x): x is string => typeof x === 'string' && x.length > 0)),
];

export async function lookupNames(db: Db, want: NameWants): Promise<Names> {
  const clinicIds = distinct(want.clinics);
  const practitionerIds = distinct(want.practitioners);
  const patientIds = distinct(want.patients);
  const loincs = distinct(want.tests);
  const [clinics, practitioners, patients, tests] = await Promise.all([
    clinicIds.length ? db.selectFrom('clinics').select(['id', 'name', 'time_zone']).where('id', 'in', clinicIds).execute() : [],
    practitionerIds.length ? db.selectFrom('practitioners').select(['id', 'full_name']).where('id', 'in', practitionerIds).execute() : [],
    patientIds.length ? db.selectFrom('patients').select(['id', 'full_name']).where('id', 'in', patientIds).execute() : [],
    loincs.length ? db.selectFrom('lab_tests').select(['loinc', 'name']).where('loinc', 'in', loincs).execute() : [],
  ]);
  const c = new Map(clinics.map((r) => [r.id, { name: r.name, timeZone: r.time_zone }]));
  const pr = new Map(practitioners.map((r) => [r.id, r.full_name]));
  const pa = new Map(patients.map((r) => [r.id, r.full_name]));
  const t = new Map(tests.map((r) => [r.loinc, r.name]));
  return {
    clinic: (id) => (id ? c.get(id) : undefined),
    practitioner: (id) => (id ? (pr.get(id) ?? null) : null),
    patient: (id) => (id ? (pa.get(id) ?? null) : null),
    test: (loinc) => t.get(loinc) ?? null,
  };
}
