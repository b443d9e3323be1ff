/**
 * The lab order process's demo data: the catalogue's possible ranges, convertible units and the
 * lipid panel; each clinic's covering doctor and head of department for critical results; vitals
 * for the demo patients; and demo orders whose processes the clinical worker starts (see
 * workers/lab-order-demo.ts). Keyed inserts, ON CONFLICT DO NOTHING: seeding twice is harmless.
 */
import { nameUuid } from '../domain/ids';
import type { Db } from './index';

/** Physiologically possible values in the catalogue unit; outside them a value is a lab error. */
const POSSIBLE: Record<string, [number, number]> = {
  '2345-7': [0.5, 80],
  '4548-4': [2, 20],
  '2823-3': [1, 12],
  '2951-2': [90, 200],
  '2160-0': [5, 3000],
  '718-7': [20, 260],
  '2093-3': [0.5, 30],
  '13457-7': [0.05, 25],
  '2085-9': [0.05, 6],
  '2571-8': [0.05, 120],
  '98979-8': [1, 200],
};

/** Other units and their factor to the catalogue unit (clinical-facts.md). */
const UNITS: Array<{ loinc: string; unit: string; factor: number }> = [
  { loinc: '2345-7', unit: 'mg/dL', factor: 0.0555 },
  { loinc: '2160-0', unit: 'mg/dL', factor: 88.4 },
  { loinc: '2093-3', unit: 'mg/dL', factor: 0.02586 },
  { loinc: '13457-7', unit: 'mg/dL', factor: 0.02586 },
  { loinc: '2085-9', unit: 'mg/dL', factor: 0.02586 },
  { loinc: '2571-8', unit: 'mg/dL', factor: 0.01129 },
  { loinc: '718-7', unit: 'g/dL', factor: 10 },
];

export const LIPID_PANEL = '24331-1';
const PANELS = [{ code: LIPID_PANEL, name: 'Lipid panel', tests: ['2093-3', '13457-7', '2085-9', '2571-8'] }];

/** The lab catalogue's process data (needs seedDemoCity's lab_tests first). */
export async function seedLabCatalogue(db: Db): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (const [loinc, [low, high]] of Object.entries(POSSIBLE)) {
      await tx
        .updateTable('lab_tests')
        .set({ physio_low: low, physio_high: high })
        .where('loinc', '=', loinc)
        .where('physio_low', 'is', null)
        .execute();
    }
    await tx
      .insertInto('lab_test_units')
      .values(UNITS)
      .onConflict((oc) => oc.doNothing())
      .execute();
    for (const p of PANELS) {
      await tx
        .insertInto('lab_panels')
        .values({ code: p.code, name: p.name })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await tx
        .insertInto('lab_panel_tests')
        .values(p.tests.map((loinc) => ({ panel_code: p.code, loinc })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  });
}

/** Each demo clinic: practitioner 1 (second GP shift) covers, practitioner 2 (cardiology) heads. */
export async function seedLabContacts(db: Db, clinicIds: Array<{ clinicId: string; covering: string; head: string }>): Promise<void> {
  if (!clinicIds.length) return;
  await db
    .insertInto('lab_escalation_contacts')
    .values(clinicIds.map((c) => ({ clinic_id: c.clinicId, covering_practitioner_id: c.covering, head_practitioner_id: c.head })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** Weight, height, BMI and blood pressure for a demo patient, dated `daysAgo` (a fixed instant per patient). */
export async function seedVitals(db: Db, patients: Array<{ patientId: string; n: number }>, asOf: Date): Promise<void> {
  const rows = patients.flatMap(({ patientId, n }) => {
    const height = 155 + ((n * 7) % 35);
    const weight = 55 + ((n * 13) % 55);
    const bmi = Math.round((weight / (height / 100) ** 2) * 10) / 10;
    const effective = new Date(asOf.getTime() - (10 + (n % 20)) * 86_400_000);
    const vital = (loinc: string, value: number, unit: string) => ({
      patient_id: patientId,
      loinc,
      value,
      unit,
      effective_at: effective,
      recorded_by: 'demo-seed',
      dedupe_key: `demo:vitals:${n}:${loinc}`,
    });
    return [
      vital('29463-7', weight, 'kg'),
      vital('8302-2', height, 'cm'),
      vital('39156-5', bmi, 'kg/m2'),
      vital('8480-6', 110 + ((n * 11) % 50), 'mm[Hg]'),
      vital('8462-4', 70 + ((n * 7) % 25), 'mm[Hg]'),
    ];
  });
  for (let i = 0; i < rows.length; i += 500) {
    await db
      .insertInto('patient_vitals')
      .values(rows.slice(i, i + 500))
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .execute();
  }
}

/** One call from seedDemoCity: catalogue, contacts of every demo clinic, vitals of the demo patients. */
export async function seedLabOrderDemo(db: Db, opts: { clinicCodes: string[]; patients: number; asOf: Date }): Promise<void> {
  await seedLabCatalogue(db);
  await seedLabContacts(
    db,
    opts.clinicCodes.map((code) => ({
      clinicId: nameUuid('demo', `clinic:${code}`),
      covering: nameUuid('demo', `practitioner:${code}:1`),
      head: nameUuid('demo', `practitioner:${code}:2`),
    })),
  );
  await seedVitals(
    db,
    Array.from({ length: opts.patients }, (_, n) => ({ patientId: nameUuid('demo', `patient:${n}`), n })),
    opts.asOf,
  );
}
