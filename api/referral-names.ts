/**
 * Referrals in lists, with names beside their ids: the referring clinic (and its zone, with the
 * deadline on its wall clock), the referring and target practitioners, and the patient where the
 * caller may see them.
 */
import { z } from '@hono/zod-openapi';
import type { Db } from '../db';
import { lookupNames } from '../db/names';
import { referralView } from '../db/referral';
import type { Referral } from '../db/schema';
import { localDateTime } from '../domain/time';
import type { Caller } from './auth';

/** The fields lists add to a referral (optional in the schema: single reads and actions answer without them). */
export const ReferralNameFields = {
  clinicName: z.string().optional(),
  timeZone: z.string().optional().openapi({ description: "The referring clinic's zone" }),
  deadlineAtLocal: z
    .string()
    .optional()
    .openapi({ description: "The legal deadline on the referring clinic's clock", example: '2026-12-21T18:00' }),
  referringPractitionerName: z.string().nullable().optional(),
  targetPractitionerName: z.string().nullable().optional(),
  patientName: z.string().nullable().optional().openapi({ description: "Null where the caller may not see the patient's name" }),
};

/**
 * May the caller see the patient's name on this row of a list? Patients (their own list), admin,
 * registrars and labs (whose lists are scoped to their clinics) yes; a doctor on the referrals they
 * made or receive; `recordRead` when the list is one patient's and the record check passed.
 */
export function mayNamePatient(caller: Caller, row: Referral, recordRead = false): boolean {
  if (recordRead || caller.role === 'admin' || caller.role === 'patient' || caller.role === 'registrar') return true;
  if (caller.role === 'doctor') {
    return (
      !!caller.practitionerId &&
      (caller.practitionerId === row.referring_practitioner_id || caller.practitionerId === row.target_practitioner_id)
    );
  }
  return false;
}

export async function presentReferrals(db: Db, caller: Caller, rows: Referral[], recordRead = false) {
  const names = await lookupNames(db, {
    clinics: rows.map((r) => r.clinic_id),
    practitioners: rows.flatMap((r) => [r.referring_practitioner_id, r.target_practitioner_id]),
    patients: rows.filter((r) => mayNamePatient(caller, r, recordRead)).map((r) => r.patient_id),
  });
  return rows.map((r) => {
    const clinic = names.clinic(r.clinic_id);
    return {
      ...referralView(r),
      clinicName: clinic?.name ?? '',
      timeZone: clinic?.timeZone ?? 'UTC',
      deadlineAtLocal: localDateTime(r.deadline_at, clinic?.timeZone ?? 'UTC'),
      referringPractitionerName: names.practitioner(r.referring_practitioner_id),
      targetPractitionerName: names.practitioner(r.target_practitioner_id),
      patientName: mayNamePatient(caller, r, recordRead) ? names.patient(r.patient_id) : null,
    };
  });
}
