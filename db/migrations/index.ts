/**
 * The migrations in order. Listed statically (not read from disk) so they run the same under
 * tsx, jest and a bundle. Forward-only: a released migration is never edited, only followed.
 */
import type { Migration } from 'kysely';
import * as core from './2026_11_25_1200_core';
import * as booking from './2026_11_25_1210_booking';
import * as referral from './2026_11_25_1220_referral';
import * as labOrder from './2026_11_25_1230_lab_order';
import * as cds from './2026_11_25_1240_cds';
import * as onboarding from './2026_11_25_1250_onboarding';
import * as audit from './2026_11_25_1300_audit';
import * as leaveOnce from './2026_11_26_0100_leave_once';
import * as bookingGuards from './2026_11_26_1200_booking_guards';
import * as referralProcess from './2026_11_26_1300_referral_process';
import * as labOrderProcess from './2026_11_26_1400_lab_order_process';
import * as onboardingRollout from './2026_11_26_1500_onboarding_rollout';
import * as recordAccess from './2026_11_26_1700_record_access';
import * as processStarted from './2026_11_27_0100_process_started';
import * as labMessages from './2026_12_07_0100_lab_messages';
import * as careRelationship from './2026_12_07_0200_care_relationship';
import * as adminPolicies from './2026_12_07_0400_admin_policies';
import * as diagnosisSuggestions from './2026_12_07_0500_diagnosis_suggestions';
import * as webSessions from './2026_12_07_0600_web_sessions';
import * as webSessionsOidc from './2026_12_08_0300_web_sessions_oidc';
import * as resultsReady from './2026_12_08_0600_results_ready';
import * as staffNotifications from './2026_12_09_0300_staff_notifications';
import * as staffPageIndexes from './2026_12_09_0400_staff_page_indexes';
import * as patientSearch from './2026_12_07_0700_patient_search';
import * as processOutbox from './2026_12_08_0100_process_outbox';
import * as notifications from './2026_12_08_0200_notifications';

export const migrations: Record<string, Migration> = {
  '2026_11_25_1200_core': core,
  '2026_11_25_1210_booking': booking,
  '2026_11_25_1220_referral': referral,
  '2026_11_25_1230_lab_order': labOrder,
  '2026_11_25_1240_cds': cds,
  '2026_11_25_1250_onboarding': onboarding,
  '2026_11_25_1300_audit': audit,
  '2026_11_26_0100_leave_once': leaveOnce,
  '2026_11_26_1200_booking_guards': bookingGuards,
  '2026_11_26_1300_referral_process': referralProcess,
  '2026_11_26_1400_lab_order_process': labOrderProcess,
  '2026_11_26_1500_onboarding_rollout': onboardingRollout,
  '2026_11_26_1700_record_access': recordAccess,
  '2026_11_27_0100_process_started': processStarted,
  '2026_12_07_0100_lab_messages': labMessages,
  '2026_12_07_0200_care_relationship': careRelationship,
  '2026_12_07_0400_admin_policies': adminPolicies,
  '2026_12_07_0500_diagnosis_suggestions': diagnosisSuggestions,
  '2026_12_07_0600_web_sessions': webSessions,
  '2026_12_07_0700_patient_search': patientSearch,
  '2026_12_08_0100_process_outbox': processOutbox,
  '2026_12_08_0200_notifications': notifications,
  '2026_12_08_0300_web_sessions_oidc': webSessionsOidc,
  '2026_12_08_0600_results_ready': resultsReady,
  '2026_12_09_0300_staff_notifications': staffNotifications,
  '2026_12_09_0400_staff_page_indexes': staffPageIndexes,
};
