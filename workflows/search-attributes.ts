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

/** Registered on the dev server at start (`--search-attribute NAME=Keyword`). */
export const SEARCH_ATTRIBUTES = ['ClinicId', 'PatientId', 'ProcessStatus', 'OnboardingStage'] as const;
