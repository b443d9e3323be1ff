/**
 * Search attributes every process keeps current, so ops can filter in the Temporal UI.
 * Only opaque ids and statuses: never names or clinical values.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const clinicIdKey = defineSearchAttributeKey('ClinicId', SearchAttributeType.KEYWORD);
export const patientIdKey = defineSearchAttributeKey('PatientId', SearchAttributeType.KEYWORD);
export const processStatusKey = defineSearchAttributeKey('ProcessStatus', SearchAttributeType.KEYWORD);
/** 'true' once a process passed its deadline unfinished (lab turnaround), so ops can filter on it. */
export const overdueKey = defineSearchAttributeKey('Overdue', SearchAttributeType.KEYWORD);

/** Registered on the dev server at start (`--search-attribute NAME=Keyword`). */
export const SEARCH_ATTRIBUTES = ['ClinicId', 'PatientId', 'ProcessStatus', 'Overdue'] as const;
