/** The city: clinics, practitioners, patients, schedules and slots, and the lab catalogue. */
import type { ColumnType, Generated } from 'kysely';
import type { Sex } from '../../domain/patient';
import type { Timestamp, CreatedAt } from './columns';

export type RolloutStage = 'preparation' | 'training' | 'pilot' | 'live';
export type Priority = 'routine' | 'urgent' | 'asap' | 'stat';
export type AppointmentStatus = 'held' | 'offered' | 'booked' | 'arrived' | 'fulfilled' | 'cancelled' | 'noshow' | 'expired';
export type LabOrderStatus =
  'ordered' | 'collected' | 'received' | 'resulted' | 'final' | 'acknowledged' | 'closed' | 'cancelled' | 'reviewed';
export type Interpretation = 'N' | 'L' | 'H' | 'LL' | 'HH' | 'A' | 'AA';
export type OnboardingTaskStatus = 'requested' | 'in-progress' | 'completed' | 'rejected' | 'cancelled';

export interface ClinicsTable {
  id: Generated<string>;
  code: string;
  name: string;
  address: string;
  /** IANA zone: the clinic's local dates and times are read in it. */
  time_zone: string;
  is_pilot: Generated<boolean>;
  rollout_stage: Generated<RolloutStage>;
  created_at: CreatedAt;
}

export interface PractitionersTable {
  id: Generated<string>;
  clinic_id: string;
  full_name: string;
  specialty: string;
  created_at: CreatedAt;
}

export interface PatientsTable {
  id: Generated<string>;
  full_name: string;
  birth_date: string;
  sex: Sex;
  phone: string | null;
  home_clinic_id: string | null;
  /** The insurance policy number (OMS), unique where known. */
  policy_number: string | null;
  created_at: CreatedAt;
}

/** The patient's registered polyclinic over time (domain/care-relationship.ts); one current row per patient. */
export interface PatientAttachmentsTable {
  id: Generated<string>;
  patient_id: string;
  clinic_id: string;
  attached_from: ColumnType<Date, Date | string | undefined, Date | string>;
  attached_until: Timestamp | null;
  created_at: CreatedAt;
}

export interface SchedulesTable {
  id: Generated<string>;
  practitioner_id: string;
  clinic_id: string;
  /** ISO weekday, 1 = Monday. */
  weekday: number;
  start_time: string;
  end_time: string;
  slot_minutes: number;
  break_start: string | null;
  break_end: string | null;
  valid_from: string;
  valid_to: string | null;
}

export interface ScheduleExceptionsTable {
  id: Generated<string>;
  practitioner_id: string;
  starts_on: string;
  ends_on: string;
  reason: string;
}

export interface SlotsTable {
  id: Generated<string>;
  practitioner_id: string;
  clinic_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  status: Generated<'free' | 'busy-unavailable'>;
}

export interface LabTestsTable {
  loinc: string;
  name: string;
  unit: string;
  specimen_type: string;
  physio_low: number | null;
  physio_high: number | null;
}

export interface LabReferenceRangesTable {
  id: Generated<string>;
  loinc: string;
  /** null: the range applies to every sex. */
  sex: 'female' | 'male' | null;
  ref_low: number | null;
  ref_high: number | null;
  critical_low: number | null;
  critical_high: number | null;
  source: string;
  age_min_years: number | null;
  age_max_years: number | null;
}
