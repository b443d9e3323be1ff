/**
 * The Database interface: one entry per table, columns as Postgres returns them through `pg`
 * with the parsers set in db/index.ts (numeric → number, date → 'YYYY-MM-DD' string,
 * bigint → string). Nullable columns are `T | null`, never optional.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { ReferralKind, ReferralStatus, ReferralUrgency } from '../domain/referral';
import type { Sex } from '../domain/patient';

export type { Sex, ReferralStatus };

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;

export type RolloutStage = 'preparation' | 'training' | 'pilot' | 'live';
export type Priority = 'routine' | 'urgent' | 'asap' | 'stat';
export type AppointmentStatus = 'held' | 'offered' | 'booked' | 'arrived' | 'fulfilled' | 'cancelled' | 'noshow' | 'expired';
export type LabOrderStatus = 'ordered' | 'collected' | 'received' | 'resulted' | 'final' | 'acknowledged' | 'closed' | 'cancelled' | 'reviewed';
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
  kind: 'reminder' | 'waitlist-offer' | 'cancelled' | 'rescheduled';
  dedupe_key: string;
  created_at: CreatedAt;
}

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

export interface LabOrdersTable {
  id: string;
  patient_id: string;
  clinic_id: string;
  ordering_practitioner_id: string;
  tests: string[];
  priority: Priority;
  status: LabOrderStatus;
  workflow_id: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  clinical_note: string | null;
  created_by: string | null;
  deadline_at: Timestamp | null;
  overdue: Generated<boolean>;
  barcode: string | null;
  collected_by: string | null;
  collected_at: Timestamp | null;
  received_at: Timestamp | null;
  resulted_at: Timestamp | null;
  final_at: Timestamp | null;
  acknowledged_at: Timestamp | null;
  acknowledged_by: string | null;
  ack_seconds: number | null;
  cancelled_at: Timestamp | null;
  cancel_reason: string | null;
  rejection_count: Generated<number>;
  critical_pending: Generated<boolean>;
  round: Generated<number>;
}

export interface LabTestUnitsTable { loinc: string; unit: string; factor: number }
export interface LabPanelsTable { code: string; name: string }
export interface LabPanelTestsTable { panel_code: string; loinc: string }

export interface LabOrderEventsTable {
  id: Generated<string>;
  lab_order_id: string;
  at: CreatedAt;
  kind: string;
  actor: string;
  details: Json;
  dedupe_key: string;
}

export interface LabResultVersionsTable {
  id: Generated<string>;
  lab_order_id: string;
  loinc: string;
  version: number;
  value: number;
  unit: string;
  reported_value: number;
  reported_unit: string;
  interpretation: 'N' | 'L' | 'H' | 'LL' | 'HH';
  ref_low: number | null;
  ref_high: number | null;
  status: 'preliminary' | 'final' | 'amended' | 'corrected';
  source: string;
  posted_by: string;
  resulted_at: CreatedAt;
}

export interface LabCriticalNotificationsTable {
  id: Generated<string>;
  lab_order_id: string;
  round: number;
  step: 'ordering' | 'covering' | 'head';
  recipient_practitioner_id: string | null;
  notified_at: CreatedAt;
}

export interface LabAcknowledgementsTable {
  id: Generated<string>;
  lab_order_id: string;
  round: number;
  practitioner_id: string;
  read_back: Json;
  critical: boolean;
  seconds_from_final: number;
  acknowledged_at: CreatedAt;
}

export interface LabSpecimenRejectionsTable {
  id: Generated<string>;
  lab_order_id: string;
  attempt: number;
  reason: 'haemolysed' | 'clotted' | 'wrong-tube' | 'unlabelled';
  barcode: string | null;
  rejected_by: string;
  rejected_at: CreatedAt;
}

export interface LabCdsCardsTable {
  lab_order_id: string;
  round: number;
  assessment_id: string | null;
  cards: Json;
  created_at: CreatedAt;
}

export interface LabNotificationsTable {
  id: Generated<string>;
  lab_order_id: string;
  practitioner_id: string | null;
  kind: string;
  dedupe_key: string;
  created_at: CreatedAt;
  sent_at: Timestamp | null;
}

export interface LabEscalationContactsTable {
  clinic_id: string;
  covering_practitioner_id: string | null;
  head_practitioner_id: string | null;
}

export interface LabOrderPoliciesTable {
  clinic_id: string;
  policy: Json;
}

export interface PatientVitalsTable {
  id: Generated<string>;
  patient_id: string;
  loinc: string;
  value: number;
  unit: string;
  effective_at: Timestamp;
  recorded_by: string;
  dedupe_key: string;
  created_at: CreatedAt;
}

export interface SpecimensTable {
  id: Generated<string>;
  lab_order_id: string;
  specimen_type: string;
  status: 'available' | 'unavailable' | 'unsatisfactory' | 'entered-in-error';
  collected_at: Timestamp;
  received_at: Timestamp | null;
}

export interface LabResultsTable {
  id: Generated<string>;
  lab_order_id: string;
  loinc: string;
  value: number;
  unit: string;
  interpretation: Interpretation | null;
  status: 'preliminary' | 'final' | 'amended' | 'corrected';
  resulted_at: Timestamp;
  acknowledged_at: Timestamp | null;
  acknowledged_by: string | null;
}

export interface CdsAssessmentsTable {
  id: Generated<string>;
  request_key: string;
  service_id: string;
  /** Our patient uuid, or the calling EHR's patient id for CDS Hooks calls. */
  patient_ref: string;
  lab_order_id: string | null;
  model_id: string | null;
  model_version: string | null;
  inputs: Json;
  output: Json;
  score: number | null;
  band: string | null;
  created_at: CreatedAt;
}

export interface OnboardingTasksTable {
  id: Generated<string>;
  clinic_id: string;
  stage: RolloutStage;
  task: string;
  status: OnboardingTaskStatus;
  approved_by: string | null;
  completed_at: Timestamp | null;
  workflow_id: string;
  created_at: CreatedAt;
  title: Generated<string>;
  owner_role: Generated<string>;
  deadline_at: Timestamp | null;
  blocked: Generated<boolean>;
  escalations: Generated<number>;
  updated_at: UpdatedAt;
}

export interface EquipmentItemsTable {
  id: Generated<string>;
  clinic_id: string;
  item_code: string;
  kind: string;
  ordered_at: Timestamp | null;
  delivered_at: Timestamp | null;
  installed_at: Timestamp | null;
  created_at: CreatedAt;
}

export type StaffRole = 'doctor' | 'nurse' | 'registrar' | 'lab' | 'manager';

export interface ClinicStaffTable {
  id: Generated<string>;
  clinic_id: string;
  staff_code: string;
  role: StaffRole;
  trained_at: Timestamp | null;
  certified_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface OnboardingBlockersTable {
  id: string;
  clinic_id: string;
  stage: string;
  description: string;
  reported_by: string;
  reported_at: CreatedAt;
  resolved_by: string | null;
  resolved_at: Timestamp | null;
}

export interface PilotIncidentsTable {
  id: string;
  clinic_id: string;
  blocking: boolean;
  status: 'open' | 'resolved';
  description: string;
  reported_by: string;
  reported_at: CreatedAt;
  resolved_by: string | null;
  resolved_at: Timestamp | null;
}

export interface OnboardingEventsTable {
  id: Generated<string>;
  clinic_id: string;
  workflow_id: string;
  kind: string;
  stage: string;
  details: ColumnType<unknown, string | undefined, never>;
  dedupe_key: string;
  at: CreatedAt;
}

export interface RolloutProgramsTable {
  id: string;
  name: string;
  workflow_id: string;
  pilot_clinic_ids: string[];
  clinic_ids: string[];
  policy: Json;
  created_by: string;
  created_at: CreatedAt;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: CreatedAt;
  actor: string;
  action: string;
  entity: string;
  entity_id: string;
  workflow_id: string | null;
  dedupe_key: string | null;
  details: ColumnType<unknown, string | undefined, never>;
}

export interface Database {
  clinics: ClinicsTable;
  practitioners: PractitionersTable;
  patients: PatientsTable;
  schedules: SchedulesTable;
  schedule_exceptions: ScheduleExceptionsTable;
  slots: SlotsTable;
  lab_tests: LabTestsTable;
  lab_reference_ranges: LabReferenceRangesTable;
  appointments: AppointmentsTable;
  booking_policies: BookingPoliciesTable;
  waitlist_entries: WaitlistEntriesTable;
  notifications: NotificationsTable;
  referrals: ReferralsTable;
  referral_events: ReferralEventsTable;
  referral_reports: ReferralReportsTable;
  referral_policies: ReferralPoliciesTable;
  clinic_calendars: ClinicCalendarsTable;
  clinic_closures: ClinicClosuresTable;
  lab_orders: LabOrdersTable;
  specimens: SpecimensTable;
  lab_results: LabResultsTable;
  lab_test_units: LabTestUnitsTable;
  lab_panels: LabPanelsTable;
  lab_panel_tests: LabPanelTestsTable;
  lab_order_events: LabOrderEventsTable;
  lab_result_versions: LabResultVersionsTable;
  lab_critical_notifications: LabCriticalNotificationsTable;
  lab_acknowledgements: LabAcknowledgementsTable;
  lab_specimen_rejections: LabSpecimenRejectionsTable;
  lab_cds_cards: LabCdsCardsTable;
  lab_notifications: LabNotificationsTable;
  lab_escalation_contacts: LabEscalationContactsTable;
  patient_vitals: PatientVitalsTable;
  lab_order_policies: LabOrderPoliciesTable;
  cds_assessments: CdsAssessmentsTable;
  onboarding_tasks: OnboardingTasksTable;
  equipment_items: EquipmentItemsTable;
  clinic_staff: ClinicStaffTable;
  onboarding_blockers: OnboardingBlockersTable;
  pilot_incidents: PilotIncidentsTable;
  onboarding_events: OnboardingEventsTable;
  rollout_programs: RolloutProgramsTable;
  audit_log: AuditLogTable;
}

export type Clinic = Selectable<ClinicsTable>;
export type Practitioner = Selectable<PractitionersTable>;
export type Patient = Selectable<PatientsTable>;
export type Slot = Selectable<SlotsTable>;
export type Appointment = Selectable<AppointmentsTable>;
export type NewAppointment = Insertable<AppointmentsTable>;
export type AppointmentUpdate = Updateable<AppointmentsTable>;
export type WaitlistEntry = Selectable<WaitlistEntriesTable>;
export type LabTest = Selectable<LabTestsTable>;
export type LabReferenceRange = Selectable<LabReferenceRangesTable>;
export type CdsAssessment = Selectable<CdsAssessmentsTable>;
export type NewCdsAssessment = Insertable<CdsAssessmentsTable>;
export type NewAuditEntry = Insertable<AuditLogTable>;
export type Referral = Selectable<ReferralsTable>;
export type ReferralEvent = Selectable<ReferralEventsTable>;
export type LabOrder = Selectable<LabOrdersTable>;
