/**
 * The Database interface: one entry per table, columns as Postgres returns them through `pg`
 * with the parsers set in db/index.ts (numeric → number, date → 'YYYY-MM-DD' string,
 * bigint → string). Nullable columns are `T | null`, never optional.
 */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { ReferralStatus } from '../../domain/referral';
import type { Sex } from '../../domain/patient';
import type * as booking from './booking';
import type * as cdsAudit from './cds-audit';
import type * as core from './core';
import type * as diagnosis from './diagnosis';
import type * as labOrder from './lab-order';
import type * as labMessages from './lab-messages';
import type * as onboarding from './onboarding';
import type * as outbox from './outbox';
import type * as policies from './policies';
import type * as referral from './referral';
import type * as web from './web';

export type { Sex, ReferralStatus };
export * from './booking';
export * from './cds-audit';
export * from './core';
export * from './diagnosis';
export * from './lab-order';
export * from './lab-messages';
export * from './onboarding';
export * from './outbox';
export * from './policies';
export * from './referral';
export * from './web';

export interface Database {
  clinics: core.ClinicsTable;
  practitioners: core.PractitionersTable;
  patients: core.PatientsTable;
  patient_attachments: core.PatientAttachmentsTable;
  schedules: core.SchedulesTable;
  schedule_exceptions: core.ScheduleExceptionsTable;
  slots: core.SlotsTable;
  lab_tests: core.LabTestsTable;
  lab_reference_ranges: core.LabReferenceRangesTable;
  appointments: booking.AppointmentsTable;
  booking_policies: booking.BookingPoliciesTable;
  waitlist_entries: booking.WaitlistEntriesTable;
  notifications: booking.NotificationsTable;
  referrals: referral.ReferralsTable;
  referral_events: referral.ReferralEventsTable;
  referral_reports: referral.ReferralReportsTable;
  referral_policies: referral.ReferralPoliciesTable;
  clinic_calendars: referral.ClinicCalendarsTable;
  clinic_closures: referral.ClinicClosuresTable;
  clinic_calendar_versions: policies.ClinicCalendarVersionsTable;
  lab_escalation_policies: policies.LabEscalationPoliciesTable;
  lab_critical_ranges: policies.LabCriticalRangesTable;
  lab_orders: labOrder.LabOrdersTable;
  specimens: labOrder.SpecimensTable;
  lab_results: labOrder.LabResultsTable;
  lab_test_units: labOrder.LabTestUnitsTable;
  lab_panels: labOrder.LabPanelsTable;
  lab_panel_tests: labOrder.LabPanelTestsTable;
  lab_order_events: labOrder.LabOrderEventsTable;
  lab_result_versions: labOrder.LabResultVersionsTable;
  lab_critical_notifications: labOrder.LabCriticalNotificationsTable;
  lab_acknowledgements: labOrder.LabAcknowledgementsTable;
  lab_specimen_rejections: labOrder.LabSpecimenRejectionsTable;
  lab_cds_cards: labOrder.LabCdsCardsTable;
  lab_notifications: labOrder.LabNotificationsTable;
  lab_escalation_contacts: labOrder.LabEscalationContactsTable;
  patient_vitals: labOrder.PatientVitalsTable;
  lab_order_policies: labOrder.LabOrderPoliciesTable;
  cds_assessments: cdsAudit.CdsAssessmentsTable;
  onboarding_tasks: onboarding.OnboardingTasksTable;
  equipment_items: onboarding.EquipmentItemsTable;
  clinic_staff: onboarding.ClinicStaffTable;
  onboarding_blockers: onboarding.OnboardingBlockersTable;
  pilot_incidents: onboarding.PilotIncidentsTable;
  onboarding_events: onboarding.OnboardingEventsTable;
  rollout_programs: onboarding.RolloutProgramsTable;
  audit_log: cdsAudit.AuditLogTable;
  diagnosis_suggestions: diagnosis.DiagnosisSuggestionsTable;
  process_outbox: outbox.ProcessOutboxTable;
  visit_diagnoses: diagnosis.VisitDiagnosesTable;
  lab_messages: labMessages.LabMessagesTable;
  lab_message_control_ids: labMessages.LabMessageControlIdsTable;
  web_sessions: web.WebSessionsTable;
}

export type Clinic = Selectable<core.ClinicsTable>;
export type Practitioner = Selectable<core.PractitionersTable>;
export type Patient = Selectable<core.PatientsTable>;
export type Slot = Selectable<core.SlotsTable>;
export type Appointment = Selectable<booking.AppointmentsTable>;
export type NewAppointment = Insertable<booking.AppointmentsTable>;
export type AppointmentUpdate = Updateable<booking.AppointmentsTable>;
export type WaitlistEntry = Selectable<booking.WaitlistEntriesTable>;
export type LabTest = Selectable<core.LabTestsTable>;
export type LabReferenceRange = Selectable<core.LabReferenceRangesTable>;
export type CdsAssessment = Selectable<cdsAudit.CdsAssessmentsTable>;
export type NewCdsAssessment = Insertable<cdsAudit.CdsAssessmentsTable>;
export type NewAuditEntry = Insertable<cdsAudit.AuditLogTable>;
export type Referral = Selectable<referral.ReferralsTable>;
export type ReferralEvent = Selectable<referral.ReferralEventsTable>;
export type LabOrder = Selectable<labOrder.LabOrdersTable>;
export type ReferralPolicyRow = Selectable<referral.ReferralPoliciesTable>;
export type LabEscalationPolicyRow = Selectable<policies.LabEscalationPoliciesTable>;
export type LabCriticalRangeRow = Selectable<policies.LabCriticalRangesTable>;
export type ClinicCalendarVersionRow = Selectable<policies.ClinicCalendarVersionsTable>;
