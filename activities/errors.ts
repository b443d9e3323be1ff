/**
 * Failure types that activities throw and workflows branch on (by type, never by message).
 * Business refusals are non-retryable: retrying a taken slot never frees it.
 * Messages carry ids and reasons only: they are stored in workflow history.
 */
import { ApplicationFailure } from '@temporalio/common';

export type FailureType =
  | 'NotFound'
  | 'SlotTaken'
  | 'PatientBusy'
  | 'InvalidInput'
  | 'ModelNotFound'
  | 'InvalidFeatures'
  | 'RuleViolation';

export function refuse(type: FailureType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] });
}
