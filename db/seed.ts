/**
 * The demo city: eight polyclinics in one city (three of them pilots), practitioners with
 * specialties and weekly schedules, synthetic patients and the lab catalogue.
 * Every insert is keyed (deterministic ids, ON CONFLICT DO NOTHING), so seeding twice is harmless.
 * All people here are synthetic.
 */
import { sql } from 'kysely';
import { nameUuid } from '../domain/ids';
import { addDays } from '../domain/time';
import { generateSlots } from './booking';
import { seedDemoRoster } from './demo-roster';
import { seedDemoOnboarding } from './seed-onboarding';
import { seedDemoReferrals } from './seed-referral';
import { seedLabOrderDemo } from './seed-lab-order';
import type { Db } from './index';
import type { Sex } from './schema';

export const DEMO_TIME_ZONE = 'Europe/Moscow';

/** A stable uuid for a demo record, so tests and docs can name them. */
export function demoId(key: string): string {
  return nameUuid('demo', key);
}

/** The demo patient's OMS policy number (16 digits; a city seeded before policy numbers gets them on the next seed). */
export function demoPolicyNumber(n: number): string {
  return `78${String(104_729 + n * 7_919).padStart(14, '0')}`;
}

/** The demo city's labs as MLLP senders: MSH-4 `PC01LAB` posts to PC-01's orders, and so on (npm start sets MLLP_SENDERS). */
export function demoMllpSenders(): string {
  return CLINICS.map((c) => `${c.code.replace('-', '')}LAB=${demoId(`clinic:${c.code}`)}`).join(',');
}

const CLINICS = [
  { code: 'PC-01', name: 'City Polyclinic No. 1', address: '12 Nevsky Avenue', pilot: true },
  { code: 'PC-02', name: 'City Polyclinic No. 2', address: '5 Sadovaya Street', pilot: true },
  { code: 'PC-03', name: 'City Polyclinic No. 3', address: '40 Moskovsky Avenue', pilot: true },
  { code: 'PC-04', name: 'City Polyclinic No. 4', address: '8 Liteyny Avenue', pilot: false },
  { code: 'PC-05', name: 'City Polyclinic No. 5', address: '21 Kamennoostrovsky Avenue', pilot: false },
  { code: 'PC-06', name: 'City Polyclinic No. 6', address: '3 Veteranov Avenue', pilot: false },
  { code: 'PC-07', name: 'City Polyclinic No. 7', address: '17 Prosveshcheniya Avenue', pilot: false },
  { code: 'PC-08', name: "Children's Polyclinic No. 8", address: '9 Bolshoy Avenue', pilot: false },
];

/** Specialty → weekly shift (local time). Each clinic gets one practitioner per specialty. */
const SPECIALTIES: Array<{ specialty: string; start: string; end: string; minutes: number }> = [
  { specialty: 'general-practice', start: '08:00', end: '14:00', minutes: 15 },
  { specialty: 'general-practice', start: '14:00', end: '20:00', minutes: 15 },
  { specialty: 'cardiology', start: '09:00', end: '15:00', minutes: 20 },
  { specialty: 'endocrinology', start: '10:00', end: '16:00', minutes: 20 },
  { specialty: 'neurology', start: '12:00', end: '18:00', minutes: 20 },
  { specialty: 'ophthalmology', start: '08:00', end: '13:00', minutes: 15 },
];

const FIRST = [
  'Anna',
  'Boris',
  'Vera',
  'Grigory',
  'Daria',
  'Egor',
  'Zoya',
  'Ivan',
  'Ksenia',
  'Lev',
  'Maria',
  'Nikita',
  'Olga',
  'Pavel',
  'Svetlana',
  'Timur',
];
const LAST = [
  'Orlova',
  'Sokolov',
  'Lebedeva',
  'Kozlov',
  'Novikova',
  'Morozov',
  'Volkova',
  'Pavlov',
  'Semenova',
  'Golubev',
  'Vinogradova',
  'Bogdanov',
];

/** The demo city's lab catalogue (shared/reference/clinical-facts.md): LOINC, SI units, ranges. */
const LAB_TESTS: Array<{
  loinc: string;
  name: string;
  unit: string;
  specimen: string;
  ranges: Array<{
    sex: 'female' | 'male' | null;
    low: number | null;
    high: number | null;
    critLow: number | null;
    critHigh: number | null;
  }>;
  source: string;
}> = [
  {
    loinc: '2345-7',
    name: 'Glucose, fasting',
    unit: 'mmol/L',
    specimen: 'serum',
    ranges: [{ sex: null, low: 3.9, high: 6.1, critLow: 2.6, critHigh: 26.9 }],
    source: 'MSD Manual; critical: Kost, JAMA 1990',
  },
  {
    loinc: '4548-4',
    name: 'Haemoglobin A1c',
    unit: '%',
    specimen: 'whole-blood',
    ranges: [{ sex: null, low: null, high: 5.7, critLow: null, critHigh: null }],
    source: 'ADA diagnostic bands',
  },
  {
    loinc: '2823-3',
    name: 'Potassium',
    unit: 'mmol/L',
    specimen: 'serum',
    ranges: [{ sex: null, low: 3.5, high: 5.0, critLow: 2.8, critHigh: 6.2 }],
    source: 'MSD Manual; critical: Kost, JAMA 1990',
  },
  {
    loinc: '2951-2',
    name: 'Sodium',
    unit: 'mmol/L',
    specimen: 'serum',
    ranges: [{ sex: null, low: 135, high: 145, critLow: 120, critHigh: 158 }],
    source: 'MSD Manual; critical: Kost, JAMA 1990',
  },
  {
    loinc: '2160-0',
    name: 'Creatinine',
    unit: 'umol/L',
    specimen: 'serum',
    ranges: [{ sex: null, low: 53, high: 106, critLow: null, critHigh: 654 }],
    source: 'MSD Manual; critical: Kost, JAMA 1990',
  },
  {
    loinc: '718-7',
    name: 'Haemoglobin',
    unit: 'g/L',
    specimen: 'whole-blood',
    ranges: [
      { sex: 'male', low: 130, high: 180, critLow: 66, critHigh: 199 },
      { sex: 'female', low: 120, high: 160, critLow: 66, critHigh: 199 },
    ],
    source: 'MSD Manual; critical: Kost, JAMA 1990',
  },
  {
    loinc: '2093-3',
    name: 'Total cholesterol',
    unit: 'mmol/L',
    specimen: 'serum',
    ranges: [{ sex: null, low: null, high: 5.2, critLow: null, critHigh: null }],
    source: 'NHLBI ATP III',
  },
  {
    loinc: '13457-7',
    name: 'LDL cholesterol (calculated)',
    unit: 'mmol/L',
    specimen: 'serum',
    ranges: [{ sex: null, low: null, high: 2.6, critLow: null, critHigh: null }],
    source: 'NHLBI ATP III',
  },
  {
    loinc: '2085-9',
    name: 'HDL cholesterol',
    unit: 'mmol/L',
    specimen: 'serum',
    ranges: [{ sex: null, low: 1.0, high: null, critLow: null, critHigh: null }],
    source: 'NHLBI ATP III',
  },
  {
    loinc: '2571-8',
    name: 'Triglycerides',
    unit: 'mmol/L',
    specimen: 'serum',
    ranges: [{ sex: null, low: null, high: 1.7, critLow: null, critHigh: null }],
    source: 'NHLBI ATP III',
  },
  {
    loinc: '98979-8',
    name: 'eGFR (CKD-EPI 2021, creatinine)',
    unit: 'mL/min/1.73m2',
    specimen: 'serum',
    ranges: [{ sex: null, low: 90, high: null, critLow: null, critHigh: null }],
    source: 'KDIGO 2012',
  },
];

/** Seeds the demo city and makes sure slots exist for the next `slotDays` local days. */
export async function seedDemoCity(db: Db, opts: { today: string; slotDays: number; patients?: number }): Promise<{ slotsAdded: number }> {
  // Demo ids are name-based (domain/ids.ts); a city seeded before they were made that way keeps its old ids.
  const first = await db.selectFrom('clinics').select('id').where('code', '=', CLINICS[0]!.code).executeTakeFirst();
  if (first && first.id !== demoId(`clinic:${CLINICS[0]!.code}`)) {
    throw new Error(
      'this data folder holds a demo city seeded by an older version (its ids were made another way): stop, delete the data folder (DATA_DIR, default .data) and start again',
    );
  }
  await db.transaction().execute(async (tx) => {
    for (const c of CLINICS) {
      await tx
        .insertInto('clinics')
        .values({
          id: demoId(`clinic:${c.code}`),
          code: c.code,
          name: c.name,
          address: `${c.address}, Demo City`,
          time_zone: DEMO_TIME_ZONE,
          is_pilot: c.pilot,
          rollout_stage: c.pilot ? 'pilot' : 'preparation',
        })
        .onConflict((oc) => oc.doNothing())
        .execute();

      for (const [i, s] of SPECIALTIES.entries()) {
        const practitionerId = demoId(`practitioner:${c.code}:${i}`);
        const name = `${FIRST[(i * 3 + c.code.charCodeAt(4)) % FIRST.length]} ${LAST[(i * 5 + c.code.charCodeAt(4)) % LAST.length]}`;
        await tx
          .insertInto('practitioners')
          .values({
            id: practitionerId,
            clinic_id: demoId(`clinic:${c.code}`),
            full_name: `Dr ${name}`,
            specialty: s.specialty,
          })
          .onConflict((oc) => oc.doNothing())
          .execute();
        for (let weekday = 1; weekday <= 5; weekday++) {
          await tx
            .insertInto('schedules')
            .values({
              id: demoId(`schedule:${c.code}:${i}:${weekday}`),
              practitioner_id: practitionerId,
              clinic_id: demoId(`clinic:${c.code}`),
              weekday,
              start_time: s.start,
              end_time: s.end,
              slot_minutes: s.minutes,
              break_start: null,
              break_end: null,
              valid_from: '2026-01-01',
              valid_to: null,
            })
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
      }
    }

    const patients = opts.patients ?? 200;
    for (let n = 0; n < patients; n++) {
      const sex: Sex = n % 2 === 0 ? 'female' : 'male';
      const year = 1940 + ((n * 7) % 66);
      const month = String(1 + (n % 12)).padStart(2, '0');
      const day = String(1 + (n % 28)).padStart(2, '0');
      const last = LAST[n % LAST.length]!;
      const homeClinicId = demoId(`clinic:${CLINICS[n % CLINICS.length]!.code}`);
      await tx
        .insertInto('patients')
        .values({
          id: demoId(`patient:${n}`),
          full_name: `${FIRST[(n * 7) % FIRST.length]} ${sex === 'male' ? last.replace(/a$/, '') : last}`,
          birth_date: `${year}-${month}-${day}`,
          sex,
          phone: null,
          home_clinic_id: homeClinicId,
          policy_number: demoPolicyNumber(n),
        })
        .onConflict((oc) => oc.column('id').doUpdateSet({ policy_number: sql`COALESCE(patients.policy_number, excluded.policy_number)` }))
        .execute();
      // Every demo patient is attached to their polyclinic (the care relationship of its doctors).
      await tx
        .insertInto('patient_attachments')
        .values({
          id: demoId(`attachment:${n}`),
          patient_id: demoId(`patient:${n}`),
          clinic_id: homeClinicId,
          attached_from: '2020-01-01T00:00:00Z',
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }

    for (const t of LAB_TESTS) {
      await tx
        .insertInto('lab_tests')
        .values({ loinc: t.loinc, name: t.name, unit: t.unit, specimen_type: t.specimen })
        .onConflict((oc) => oc.doNothing())
        .execute();
      for (const r of t.ranges) {
        await tx
          .insertInto('lab_reference_ranges')
          .values({
            id: demoId(`range:${t.loinc}:${r.sex ?? 'any'}`),
            loinc: t.loinc,
            sex: r.sex,
            ref_low: r.low,
            ref_high: r.high,
            critical_low: r.critLow,
            critical_high: r.critHigh,
            source: t.source,
          })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    }
  });
  await seedDemoRoster(
    db,
    CLINICS.map((c) => c.code),
  );
  await seedDemoOnboarding(db);
  await seedDemoReferrals(db);
  await seedLabOrderDemo(db, {
    clinicCodes: CLINICS.map((c) => c.code),
    patients: opts.patients ?? 200,
    asOf: new Date(`${opts.today}T09:00:00Z`),
  });
  const to = addDays(opts.today, opts.slotDays - 1);
  return { slotsAdded: (await generateSlots(db, opts.today, to)).added };
}
