/** Lab order lists with names beside their ids: patient (where the caller may see them), clinic and zone, ordering doctor, test names. */
import { z } from '@hono/zod-openapi';
import type { Db } from '../../db';
import { lookupNames } from '../../db/names';
import { localDateTime } from '../../domain/time';

export const LabNameFields = {
  patientName: z.string().nullable().openapi({ description: "Null where the caller may not see the patient's name (ops)" }),
  clinicName: z.string(),
  timeZone: z.string().openapi({ description: "The ordering clinic's zone; *Local times are on its clock" }),
  orderingPractitionerName: z.string().nullable(),
  testNames: z.array(z.string()).openapi({ description: 'The catalogue name of each code in `tests`, in the same order' }),
};

interface LabRow {
  patient_id: string;
  clinic_id: string;
  ordering_practitioner_id: string;
  tests: string[];
}

/** Names for a page of orders (one query per kind); `extra` names more practitioners (escalation recipients). */
export async function labNames(db: Db, rows: LabRow[], opts: { namePatients: boolean; practitioners?: Array<string | null> }) {
  const names = await lookupNames(db, {
    patients: opts.namePatients ? rows.map((r) => r.patient_id) : [],
    clinics: rows.map((r) => r.clinic_id),
    practitioners: [...rows.map((r) => r.ordering_practitioner_id), ...(opts.practitioners ?? [])],
    tests: rows.flatMap((r) => r.tests),
  });
  const fields = (r: LabRow) => {
    const clinic = names.clinic(r.clinic_id);
    return {
      patientName: opts.namePatients ? names.patient(r.patient_id) : null,
      clinicName: clinic?.name ?? '',
      timeZone: clinic?.timeZone ?? 'UTC',
      orderingPractitionerName: names.practitioner(r.ordering_practitioner_id),
      testNames: r.tests.map((t) => names.test(t) ?? t),
    };
  };
  const local = (at: Date | null, r: LabRow) => (at ? localDateTime(at, names.clinic(r.clinic_id)?.timeZone ?? 'UTC') : null);
  return { fields, local, practitioner: names.practitioner, test: names.test };
}
