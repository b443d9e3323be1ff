/**
 * Clinics the onboarding tests make for themselves: a clinic in a chosen rollout stage with
 * practitioners on weekly schedules, registered patients, equipment items and staff.
 */
import type { Db } from '../db';
import type { OnboardingStage } from '../domain/onboarding';
import { onboardingPolicyWith, type OnboardingPolicyOverrides } from '../domain/rollout';
import { makeClinic, makePatient, type TestClinic } from './fixtures';

export interface OnboardingClinic extends TestClinic {
  equipmentIds: string[];
  staffIds: string[];
  patients: number;
}

export async function makeOnboardingClinic(
  db: Db,
  opts: { stage?: OnboardingStage; equipment?: number; staff?: number; patients?: number } = {},
): Promise<OnboardingClinic> {
  const clinic = await makeClinic(db);
  await db
    .updateTable('clinics')
    .set({ rollout_stage: opts.stage ?? 'preparation' })
    .where('id', '=', clinic.clinicId)
    .execute();
  for (const practitionerId of [clinic.practitionerId, clinic.otherPractitionerId]) {
    await db
      .insertInto('schedules')
      .values({
        practitioner_id: practitionerId,
        clinic_id: clinic.clinicId,
        weekday: 1,
        start_time: '09:00',
        end_time: '12:00',
        slot_minutes: 20,
        break_start: null,
        break_end: null,
        valid_from: '2026-01-01',
        valid_to: null,
      })
      .execute();
  }
  const patients = opts.patients ?? 2;
  for (let i = 0; i < patients; i++) {
    const id = await makePatient(db);
    await db.updateTable('patients').set({ home_clinic_id: clinic.clinicId }).where('id', '=', id).execute();
  }
  const equipmentIds = [];
  for (let i = 0; i < (opts.equipment ?? 2); i++) {
    const row = await db
      .insertInto('equipment_items')
      .values({
        clinic_id: clinic.clinicId,
        item_code: `WS-${i}`,
        kind: i % 2 ? 'tablet' : 'workstation',
        ordered_at: null,
        delivered_at: null,
        installed_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    equipmentIds.push(row.id);
  }
  const staffIds = [];
  for (let i = 0; i < (opts.staff ?? 2); i++) {
    const row = await db
      .insertInto('clinic_staff')
      .values({
        clinic_id: clinic.clinicId,
        staff_code: `S-${i}`,
        role: i % 2 ? 'registrar' : 'doctor',
        trained_at: null,
        certified_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    staffIds.push(row.id);
  }
  return { ...clinic, equipmentIds, staffIds, patients };
}

/** Durations in seconds: deadlines far enough that only the tests about them see alarms. */
export const fastPolicy = (o: OnboardingPolicyOverrides = {}) =>
  onboardingPolicyWith({
    taskDeadlineSeconds: { preparation: 600, training: 600, pilot: 600 },
    reminderLeadSeconds: 60,
    escalationStepSeconds: 60,
    certifiedShare: 0.5,
    pilotPeriodSeconds: 1,
    ...o,
  });
