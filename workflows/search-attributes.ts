/**
 * Search attributes every process keeps current, so ops can filter in the Temporal UI.
 * Only opaque ids and statuses: never names or clinical values.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const clinicIdKey = defineSearchAttributeKey('ClinicId', SearchAttributeType.KEYWORD);
export const patientIdKey = defineSearchAttributeKey('PatientId', SearchAttributeType.KEYWORD);
export const processStatusKey = defineSearchAttributeKey('ProcessStatus', SearchAttributeType.KEYWORD);
/** An onboarding's stage: preparation, training, pilot or live. */
export const onboardingStageKey = defineSearchAttributeKey('OnboardingStage', SearchAttributeType.KEYWORD);
/** When a referral must be booked by: ops filter overdue ones with `DeadlineAt < now AND ProcessStatus = 'offered'`. */
export const deadlineAtKey = defineSearchAttributeKey('DeadlineAt', SearchAttributeType.DATETIME);
/** A referral not booked within its legal waiting time. */
export const breachedKey = defineSearchAttributeKey('Breached', SearchAttributeType.BOOL);

/** 'true' once a process passed its deadline unfinished (lab turnaround), so ops can filter on it. */
export const overdueKey = defineSearchAttributeKey('Overdue', SearchAttributeType.KEYWORD);

/** Every key above: registered on the dev server at start and on the production server (local-stack/temporal-server.ts). */
export const ENGINE_SEARCH_ATTRIBUTES = [
  clinicIdKey,
  patientIdKey,
  processStatusKey,
  onboardingStageKey,
  deadlineAtKey,
  breachedKey,
  overdueKey,
] as const;

/** Registered on the dev server at start (`--search-attribute NAME=Type`). */
export const SEARCH_ATTRIBUTES = [
  'ClinicId',
  'PatientId',
  'ProcessStatus',
  'OnboardingStage',
  'DeadlineAt',
  'Breached',
  'Overdue',
] as const;
