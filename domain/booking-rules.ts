/**
 * The booking rules, once: whether a slot may be booked for a patient now, and whether a visit may
 * check in. Pure (the caller reads the slot, the clock and the count); the commands and the
 * booking activities turn a refusal into a typed failure, and the API into its HTTP answer.
 */
import { CHECK_IN_OPENS_SECONDS, type BookingPolicy, type BookingStatus } from './booking';
import { BOOKABLE_STAGES, type OnboardingStage } from './onboarding';

export type BookingRefusalType = 'ClinicNotLive' | 'SlotUnavailable' | 'SlotInPast' | 'BeyondHorizon' | 'TooManyBookings' | 'InvalidState';
export interface BookingRefusal {
  type: BookingRefusalType;
  message: string;
  details?: Record<string, unknown>;
}

export interface SlotFacts {
  id: string;
  status: string;
  startsAt: Date;
  rolloutStage: OnboardingStage;
}

/** Why this slot cannot be booked now (before counting the patient's other bookings), or null. */
export function slotRefusal(slot: SlotFacts, now: number, policy: BookingPolicy): BookingRefusal | null {
  if (!BOOKABLE_STAGES.includes(slot.rolloutStage)) {
    return {
      type: 'ClinicNotLive',
      message: `the clinic is in its ${slot.rolloutStage} stage and takes bookings from its pilot on`,
      details: { stage: slot.rolloutStage },
    };
  }
  if (slot.status !== 'free') return { type: 'SlotUnavailable', message: `slot ${slot.id} is not open for booking` };
  if (slot.startsAt.getTime() <= now) return { type: 'SlotInPast', message: `slot ${slot.id} has already started` };
  if (slot.startsAt.getTime() > now + policy.horizonDays * 86_400_000) {
    return { type: 'BeyondHorizon', message: `slot ${slot.id} is more than ${policy.horizonDays} days ahead` };
  }
  return null;
}

/** The per-specialty limit: `active` counts the patient's live future appointments in the slot's specialty. */
export function specialtyLimitRefusal(active: number, policy: BookingPolicy): BookingRefusal | null {
  // No specialty in the message: failure messages are stored in workflow history.
  if (active >= policy.maxActivePerSpecialty) {
    return {
      type: 'TooManyBookings',
      message: `the patient already has ${active} active appointments in this specialty (limit ${policy.maxActivePerSpecialty})`,
    };
  }
  return null;
}

/** A booked visit checks in from CHECK_IN_OPENS_SECONDS before its start. */
export function checkInRefusal(status: BookingStatus, startsAt: Date, now: number): BookingRefusal | null {
  if (status !== 'booked') return { type: 'InvalidState', message: `Only a booked appointment can check in; this one is ${status}.` };
  if (now < startsAt.getTime() - CHECK_IN_OPENS_SECONDS * 1000) {
    return { type: 'InvalidState', message: `Check-in opens ${CHECK_IN_OPENS_SECONDS / 3600} hours before the visit.` };
  }
  return null;
}

/** Only a visit whose patient has arrived can be completed. */
export function completeRefusal(status: BookingStatus): BookingRefusal | null {
  return status === 'arrived'
    ? null
    : { type: 'InvalidState', message: `Only a visit whose patient has arrived can be completed; this one is ${status}.` };
}
