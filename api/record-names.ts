/**
 * The record's items with names beside their ids (JSON only; the FHIR Bundle carries references):
 * the clinic and its zone (with the item's time on its clock), the practitioners, the tests.
 */
import type { Db } from '../db';
import { lookupNames } from '../db/names';
import type { RecordItem } from '../domain/record';
import { localDateTime } from '../domain/time';

const PRACTITIONER_KEYS = ['practitionerId', 'referringPractitionerId', 'orderingPractitionerId', 'targetPractitionerId'] as const;
const nameKey = (key: string) => key.replace(/Id$/, 'Name');

export async function nameRecordItems(db: Db, items: RecordItem[]) {
  const fields = items.map((i) => i as unknown as Record<string, unknown>);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const names = await lookupNames(db, {
    clinics: fields.map((f) => str(f.clinicId)),
    practitioners: fields.flatMap((f) => PRACTITIONER_KEYS.map((k) => str(f[k]))),
    tests: fields.flatMap((f) => (Array.isArray(f.tests) ? f.tests.filter((t): t is string => typeof t === 'string') : [])),
  });
  return items.map((item, n) => {
    const f = fields[n]!;
    const clinic = names.clinic(str(f.clinicId));
    const extra: Record<string, unknown> = {};
    if (clinic)
      Object.assign(extra, { clinicName: clinic.name, timeZone: clinic.timeZone, atLocal: localDateTime(item.at, clinic.timeZone) });
    for (const k of PRACTITIONER_KEYS) if (k in f) extra[nameKey(k)] = names.practitioner(str(f[k]));
    if (Array.isArray(f.tests)) extra.testNames = f.tests.map((t) => (typeof t === 'string' ? (names.test(t) ?? t) : String(t)));
    return { ...item, ...extra };
  });
}
