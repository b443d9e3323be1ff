/**
 * Booking's vocabulary, shared by every layer: the appointment as a process sees it, its
 * statuses, the clinic's policy with production defaults, and the workflow id. Pure: no I/O.
 */

/** Rules a clinic sets (booking_policies); durations in seconds so tests can pass seconds. */
export interface BookingPolicy {
  /** How many days ahead patients may book. */
  horizonDays: number;
  /** Active (held, offered or booked, future) appointments per patient per specialty. */
  maxActivePerSpecialty: number;
  /** How long a hold waits for confirmation. */
  holdSeconds: number;
  /** How long a waitlist offer waits for the patient to accept. */
  offerHoldSeconds: number;
  /** How long before the visit the reminder goes out. */
  reminderLeadSeconds: number;
  /** How long after the start a booked patient who has not checked in becomes a no-show. */
  noShowGraceSeconds: number;
  /**
   * How long a caller waits on one step (hold, confirm, cancel, reschedule). Not a clinic rule
   * (no column): absent means DEFAULT_STEP_TIMEOUTS; tests pass seconds.
   */
  stepTimeouts?: StepTimeouts;
}

/**
 * One step's time limits: each attempt, and in all. Every activity's transaction ends before its
 * attempt does (statement and lock timeouts below it), so nothing is written after the caller was
 * told the step failed.
 */
export interface StepTimeouts {
  attemptSeconds: number;
  deadlineSeconds: number;
}
export const DEFAULT_STEP_TIMEOUTS: StepTimeouts = Object.freeze({ attemptSeconds: 10, deadlineSeconds: 30 });

/** How many times a freed slot's waitlist offer is tried before the slot is left to search. */
export const OFFER_MAX_ATTEMPTS = 5;

/** Production defaults: the one place they are written. */
export const DEFAULT_BOOKING_POLICY: BookingPolicy = Object.freeze({
  horizonDays: 60,
  maxActivePerSpecialty: 2,
  holdSeconds: 10 * 60,
  offerHoldSeconds: 2 * 3600,
  reminderLeadSeconds: 24 * 3600,
  noShowGraceSeconds: 30 * 60,
});

/** How long before the visit a patient can check in at the desk. */
export const CHECK_IN_OPENS_SECONDS = 2 * 3600;

export type BookingStatus = 'held' | 'offered' | 'booked' | 'arrived' | 'fulfilled' | 'cancelled' | 'noshow' | 'expired';

/** The appointment as the process sees it (times as ISO instants). */
export interface AppointmentView {
  appointmentId: string;
  status: BookingStatus;
  slotId: string;
  patientId: string;
  practitionerId: string;
  clinicId: string;
  startsAt: string;
  endsAt: string;
  holdExpiresAt: string | null;
}

export interface BookingState {
  /** 'new' until the hold is taken; 'rejected' when it was refused. */
  status: BookingStatus | 'new' | 'rejected';
  appointment: AppointmentView | null;
  reminderSent: boolean;
}

export interface BookingInput {
  appointmentId: string;
  patientId: string;
  clinicId: string;
  policy: BookingPolicy;
  /**
   * A waitlist offer (the hold already taken by offerFreedSlot), or a referral's booking (already
   * held and confirmed by the referral process, which starts this one as its child).
   */
  offered?: AppointmentView;
  /**
   * The appointment as the API committed it before starting this process (held, or booked by a
   * one-call booking): the caller had its answer from Postgres, this process keeps the timers.
   */
  held?: AppointmentView;
  /** The referral this booking serves: its process is told of every change (bookingChangedSignal). */
  referralWorkflowId?: string;
}

export interface HoldRequest {
  slotId: string;
  bookedBy: string;
}
export interface CancelRequest {
  by: string;
  reason: string;
}
export interface RescheduleRequest {
  slotId: string;
  by: string;
}

export const bookingWorkflowId = (appointmentId: string) => `booking-${appointmentId}`;

/** Statuses that hold a slot (and the patient's time). */
export const LIVE_STATUSES = ['held', 'offered', 'booked', 'arrived', 'fulfilled'] as const;
