/** Appointments, clinics' booking rules, the waitlist and the notifications outbox. */
import type { AppointmentStatus } from './core';
import type { ColumnType, Generated } from 'kysely';
import type { Timestamp, CreatedAt, UpdatedAt } from './columns';

export interface AppointmentsTable {
  id: string;
  slot_id: string;
  patient_id: string;
  practitioner_id: string;
  clinic_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  status: AppointmentStatus;
  hold_expires_at: Timestamp | null;
  workflow_id: string;
  booked_by: string;
  cancel_reason: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  /** NULL while the API has answered but the process has not been seen started (see the reconciler). */
  process_started_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface BookingPoliciesTable {
  clinic_id: string;
  horizon_days: number;
  max_active_per_specialty: number;
  hold_seconds: number;
  offer_hold_seconds: number;
  reminder_lead_seconds: number;
  no_show_grace_seconds: number;
}

export type WaitlistStatus = 'waiting' | 'offered' | 'booked' | 'cancelled';

export interface WaitlistEntriesTable {
  id: string;
  patient_id: string;
  specialty: string;
  practitioner_id: string | null;
  clinic_id: string | null;
  wanted_before: Timestamp;
  status: WaitlistStatus;
  offered_appointment_id: string | null;
  created_by: string;
  created_at: CreatedAt;
}

export interface NotificationsTable {
  id: Generated<string>;
  patient_id: string;
  appointment_id: string | null;
  /** The lab order a 'results-ready' message is about (db/migrations/2026_12_08_0600_results_ready.ts). */
  lab_order_id: Generated<string | null>;
  kind: 'reminder' | 'waitlist-offer' | 'cancelled' | 'rescheduled' | 'results-ready';
  dedupe_key: string;
  created_at: CreatedAt;
  /** When the delivery relay started this row's delivery process (db/migrations/2026_12_08_0200_notifications.ts). */
  dispatched_at: Timestamp | null;
}
