/**
 * How every refusal type (domain/failures.ts) reads in HTTP: one table for all routers, so a
 * failure has the same status and code whichever process or route refused it.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { FailureType } from '../domain/failures';

/** Status and code; api/errors.ts builds ApiErrors from them, so the compiler checks each code is an ErrorCode (no import: a cycle). */
export type FailureHttp = readonly [ContentfulStatusCode, string];

export const FAILURE_HTTP = {
  NotFound: [404, 'not_found'],
  SlotNotFound: [404, 'slot_not_found'],
  PatientNotFound: [404, 'patient_not_found'],
  SlotUnavailable: [409, 'slot_unavailable'],
  SlotInPast: [422, 'slot_in_past'],
  BeyondHorizon: [422, 'beyond_booking_horizon'],
  OtherClinic: [422, 'other_clinic'],
  SlotTaken: [409, 'slot_taken'],
  PatientBusy: [409, 'patient_busy'],
  TooManyBookings: [422, 'too_many_bookings'],
  InvalidState: [409, 'invalid_state'],
  // Well-formed input the process refuses (the schema let it through): 422; the schema's own refusals are 400.
  InvalidInput: [422, 'validation_failed'],
  ModelNotFound: [503, 'unavailable'],
  InvalidFeatures: [422, 'invalid_features'],
  RuleViolation: [409, 'invalid_state'],
  ClinicNotLive: [409, 'clinic_not_live'],
  PreconditionFailed: [422, 'precondition_failed'],
  BlockingIncidentsOpen: [409, 'blocking_incidents_open'],
  OnboardingBlocked: [409, 'onboarding_blocked'],
  Forbidden: [403, 'forbidden'],
  WrongPractitioner: [403, 'wrong_practitioner'],
  WrongPatient: [403, 'wrong_patient'],
  UnknownTest: [422, 'unknown_test'],
  WrongUnit: [422, 'wrong_unit'],
  NotFinite: [422, 'not_finite'],
  ImpossibleValue: [422, 'impossible_value'],
  ReadBackMismatch: [422, 'read_back_mismatch'],
  NotYourOrder: [403, 'forbidden'],
  DuplicateRequest: [409, 'idempotency_key_reused'],
  Busy: [503, 'unavailable'],
} as const satisfies Readonly<Record<FailureType, FailureHttp>>;

/** A type the table names, or undefined (an Update validator's plain Error, a failure of another kind). */
export function knownFailure(type: string | null | undefined): (typeof FAILURE_HTTP)[FailureType] | undefined {
  return type && Object.hasOwn(FAILURE_HTTP, type) ? FAILURE_HTTP[type as FailureType] : undefined;
}

/** A refused Update: its type's entry, or 409 invalid_state (a validator's plain Error means the state did not allow it). */
export function updateFailure(type: string | null | undefined): (typeof FAILURE_HTTP)[FailureType] {
  return knownFailure(type) ?? FAILURE_HTTP.InvalidState;
}
