/** Referrals, their timeline, reports and waiting-time policies; clinic calendars. */
import type { Priority } from './core';
import type { ColumnType, Generated } from 'kysely';
import type { ReferralKind, ReferralStatus, ReferralUrgency } from '../../domain/referral';
import type { Timestamp, CreatedAt, UpdatedAt } from './columns';

export interface ReferralsTable {
  id: string;
  patient_id: string;
  clinic_id: string;
  referring_practitioner_id: string | null;
  specialty: string;
  priority: Priority;
  status: ReferralStatus;
  deadline_at: Timestamp;
  appointment_id: string | null;
  report_received_at: Timestamp | null;
  workflow_id: string;
  created_by: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  kind: Generated<ReferralKind>;
  urgency: Generated<ReferralUrgency>;
  icd10: string | null;
  reason: string | null;
  target_practitioner_id: string | null;
  target_test: string | null;
  valid_until: Timestamp;
  breached: Generated<boolean>;
  /** 0 none; 1 top of the referring clinic's registrar queue; 2 head of department. */
  escalation_level: Generated<number>;
  offered_slots: ColumnType<unknown, string | undefined, string>;
  no_shows: Generated<number>;
  booked_at: Timestamp | null;
  acknowledged_at: Timestamp | null;
  acknowledged_by: string | null;
  cancel_reason: string | null;
  closed_at: Timestamp | null;
}

export interface ReferralEventsTable {
  id: Generated<string>;
  referral_id: string;
  at: CreatedAt;
  step: string;
  actor: string;
  details: ColumnType<unknown, string | undefined, never>;
  dedupe_key: string;
}

export interface ReferralReportsTable {
  referral_id: string;
  practitioner_id: string;
  patient_id: string;
  conclusion: string;
  icd10: string[];
  recommendations: string;
  created_at: CreatedAt;
}

export interface ReferralPoliciesTable {
  id: Generated<string>;
  clinic_id: string | null;
  region: string | null;
  kind: ReferralKind;
  urgency: ReferralUrgency;
  wait_working_days: number | null;
  wait_hours: number | null;
  wait_seconds: number | null;
  escalation_share: Generated<number>;
  acknowledge_seconds: number;
  no_show_limit: number;
  validity_days: number;
  /** The version takes effect from this instant (rows from before versions: 1970, always). */
  effective_from: ColumnType<Date, Date | string | undefined, never>;
  /** Who set this version through the admin API; null for rows written before it. */
  created_by: string | null;
  created_at: CreatedAt;
}

export interface ClinicCalendarsTable {
  clinic_id: string;
  country: string;
  region: string | null;
}

export interface ClinicClosuresTable {
  clinic_id: string;
  closed_on: string;
  reason: string;
}
